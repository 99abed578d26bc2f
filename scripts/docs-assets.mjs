#!/usr/bin/env node
// Copies the /docs page's Swagger UI files from the installed `swagger-ui-dist` into
// public/docs/assets/, the Workers static assets directory (wrangler.toml `[assets]`), so the
// Worker serves them without bundling them. Run by wrangler itself before `wrangler dev`,
// `deploy` and `versions upload` (wrangler.toml `[build]`). Node reads node_modules directly.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The files functions/http/docs-page.ts (DOCS_ASSETS) links; a unit test keeps the two equal. */
export const DOCS_ASSET_FILES = ["swagger-ui-bundle.js", "swagger-ui.css"];

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DOCS_ASSETS_DIR = join(root, "public", "docs", "assets");

export function copyDocsAssets(target = DOCS_ASSETS_DIR) {
  const source = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  mkdirSync(target, { recursive: true });
  for (const name of DOCS_ASSET_FILES) copyFileSync(join(source, name), join(target, name));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) copyDocsAssets();

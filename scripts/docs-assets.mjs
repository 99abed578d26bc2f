#!/usr/bin/env node
// Copies the /docs page's Swagger UI files from the installed `swagger-ui-dist` into
// public/docs/assets/, the Workers static assets directory (wrangler.toml `[assets]`), so the
// Worker serves them without bundling them, and writes the OpenAPI document the page shows to
// public/openapi.json (the Worker bundle has no generator: functions/platform/worker-openapi.ts).
// Run by wrangler itself before `wrangler dev`, `deploy` and `versions upload` (wrangler.toml
// `[build]`). Node reads node_modules directly and builds the document at run time.
import { spawnSync } from "node:child_process";
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

/** The OpenAPI document's path, served as a static asset on Workers. */
export const OPENAPI_DOCUMENT_PATH = "/openapi.json";

/** Writes the production OpenAPI document (scripts/openapi-document.ts, run through tsx). */
export function writeOpenApiDocument(target = join(root, "public", "openapi.json")) {
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", join(root, "scripts", "openapi-document.ts"), target],
    { stdio: "inherit" },
  );
  if (run.status !== 0) throw new Error(`writing ${target} failed`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  copyDocsAssets();
  writeOpenApiDocument();
}

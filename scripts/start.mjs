#!/usr/bin/env node
// `npm start`: the Node server from the build (dist/node.mjs, `npm run build`), with plain node
// and only the runtime dependencies, so `npm ci --omit=dev && npm start` works on a built tree.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const entry = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "node.mjs");
if (!existsSync(entry)) {
  console.error("start: dist/node.mjs is missing; run `npm run build` first (it needs the dev dependencies)");
  process.exit(1);
}
await import(pathToFileURL(entry).href);

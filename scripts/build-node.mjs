#!/usr/bin/env node
// Builds the Node entry and its scheduled jobs to plain JavaScript (esbuild), so production runs
// `node dist/node.mjs` with only the runtime dependencies installed (`npm ci --omit=dev`): no
// tsx. Packages stay external (resolved from node_modules at run time, so native drivers keep
// working), which is why everything the built files import must be in `dependencies` (a test
// checks it). The files sit one level under the repository because db/migrate.ts finds the
// migrations at `../migrations` from the running module.
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Output name (without .mjs) → source. */
export const NODE_ENTRIES = {
  node: "functions/node.ts",
  "outbox-dispatch": "scripts/outbox-dispatch.ts",
  "db-sweep": "scripts/db-sweep.ts",
  "db-migrate": "scripts/db-migrate.ts",
};

/** Builds every Node entry into `outdir` (default dist/); returns esbuild's metafile. */
export async function buildNode(outdir = join(root, "dist")) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(NODE_ENTRIES).map(([out, src]) => [out, join(root, src)])),
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: true,
    metafile: true,
    logLevel: "warning",
  });
  return result.metafile;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await buildNode();
  console.log(
    `node: built ${Object.keys(NODE_ENTRIES)
      .map((n) => `dist/${n}.mjs`)
      .join(", ")}`,
  );
}

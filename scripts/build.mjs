#!/usr/bin/env node
// `npm run build`: bundles the Worker exactly as `wrangler deploy` would (dry run, offline) into
// dist/, checks the gzip size of that bundle against the budget, then builds the Node entry and
// its jobs to dist/*.mjs (scripts/build-node.mjs) for `npm start`. The /docs page's Swagger UI
// files are static assets (public/, copied by wrangler's [build] step), not in the bundle.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { buildNode, NODE_ENTRIES } from "./build-node.mjs";

/**
 * Budget for the gzipped, minified Worker bundle: ~300 KiB measured (zod with its locales and
 * drizzle are most of it), with room to grow a little; the platform limit is 3 MiB (free plan).
 * Start-up time grows with bundle size, so this is a speed budget, not a platform limit.
 */
const BUNDLE_BUDGET_GZIP_BYTES = 350 * 1024;

const wrangler = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const build = spawnSync(
  process.execPath,
  [wrangler, "deploy", "--dry-run", "--env", "", "--outdir", "dist"],
  {
    env,
    stdio: "inherit",
  },
);
if (build.status !== 0) process.exit(build.status ?? 1);

/** The Node build shares dist/ (scripts/build-node.mjs); it is not part of the Worker. */
const isNodeOutput = (name) => Object.keys(NODE_ENTRIES).some((entry) => name.startsWith(`${entry}.mjs`));

let raw = 0;
let gzip = 0;
for (const name of readdirSync("dist")) {
  const file = join("dist", name);
  if (!statSync(file).isFile() || name.endsWith(".map") || isNodeOutput(name)) continue;
  const bytes = readFileSync(file);
  raw += bytes.length;
  gzip += gzipSync(bytes, { level: 9 }).length;
}
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`bundle: ${kib(raw)} raw, ${kib(gzip)} gzip (budget ${kib(BUNDLE_BUDGET_GZIP_BYTES)})`);
if (gzip > BUNDLE_BUDGET_GZIP_BYTES) {
  console.error("bundle: over budget");
  process.exit(1);
}

await buildNode();
console.log(
  `node: built ${Object.keys(NODE_ENTRIES)
    .map((n) => `dist/${n}.mjs`)
    .join(", ")}`,
);

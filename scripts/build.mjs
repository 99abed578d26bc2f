#!/usr/bin/env node
// `npm run build`: bundles the Worker exactly as `wrangler deploy` would (dry run, offline) into
// dist/, prints what the bundle is made of (esbuild's metafile) and checks its gzip size against
// the budget, then builds the Node entry and its jobs to dist/*.mjs (scripts/build-node.mjs) for
// `npm start`. The /docs page's Swagger UI files and the OpenAPI document are static assets
// (public/, written by wrangler's [build] step), not in the bundle.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { buildNode, NODE_ENTRIES } from "./build-node.mjs";
import { WRANGLER_CLI } from "./wrangler-cli.mjs";

/**
 * Budget for the gzipped, minified production Worker bundle: the target of 150 KiB (≈ 149
 * measured; 293.6 before the bundle work: the attestation certificate and ASN.1 code,
 * @upstash/redis, Neon's driver and @upstash/ratelimit's other algorithms left it, and the
 * production build carries Postgres over HTTP only). What is in the bundle and what could go
 * next: docs/architecture.md "The Worker bundle". The platform limit is 3 MiB (free plan);
 * start-up time grows with bundle size, so this is a speed budget.
 */
export const BUNDLE_BUDGET_GZIP_BYTES = 150 * 1024;

/** esbuild's description of the Worker bundle, written beside it (not part of it). */
export const WORKER_METAFILE = "worker-meta.json";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const OFFLINE = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

/** The Node build shares dist/ (scripts/build-node.mjs); it is not part of the Worker. */
const isNodeOutput = (name) => Object.keys(NODE_ENTRIES).some((entry) => name.startsWith(`${entry}.mjs`));

/**
 * The build the budget applies to: the production Worker (`--env production`), which carries
 * only Neon's HTTP path (wrangler.toml `define`). The top level ("", also `wrangler dev`)
 * carries D1, the HTTP path and the WebSocket Pool.
 */
export const BUDGETED_ENV = "production";

/**
 * Bundles a Worker environment (`wrangler deploy --dry-run --env <env>`, what a deploy uploads)
 * into `outdir` and measures it: every file there but source maps, the metafile and the Node
 * build.
 */
export function buildWorker(dir = "dist", { quiet = false, env = BUDGETED_ENV } = {}) {
  const outdir = resolve(root, dir);
  const args = [WRANGLER_CLI, "deploy", "--dry-run", "--env", env, "--outdir", outdir];
  const build = spawnSync(process.execPath, [...args, "--metafile", join(outdir, WORKER_METAFILE)], {
    cwd: root,
    env: { ...process.env, ...OFFLINE },
    stdio: quiet ? "pipe" : "inherit",
    encoding: "utf8",
  });
  if (build.status !== 0) {
    throw new Error(`wrangler deploy --dry-run failed (${build.status})\n${build.stderr ?? ""}`);
  }
  let raw = 0;
  let gzip = 0;
  for (const name of readdirSync(outdir)) {
    const file = join(outdir, name);
    if (!statSync(file).isFile() || name.endsWith(".map") || name === WORKER_METAFILE) continue;
    if (name === "README.md" || isNodeOutput(name)) continue; // wrangler's note; the Node build
    const bytes = readFileSync(file);
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  const metafile = JSON.parse(readFileSync(join(outdir, WORKER_METAFILE), "utf8"));
  // wrangler names the bundle after the entry (wrangler.toml `main`: functions/index.ts).
  return { bundle: join(outdir, "index.js"), raw, gzip, metafile };
}

/**
 * The bundle's inputs grouped by package (zod split into core, classic and locales) or by app
 * folder, largest first: bytes each contributes to the minified output, before gzip.
 */
export function bundleBreakdown(metafile) {
  const groups = new Map();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)(?:\/v4\/(core|classic|locales|mini))?/.exec(path);
      const group = pkg ? (pkg[2] ? `${pkg[1]}/${pkg[2]}` : pkg[1]) : path.split("/").slice(0, 2).join("/");
      groups.set(group, (groups.get(group) ?? 0) + bytesInOutput);
    }
  }
  return [...groups].map(([group, bytes]) => ({ group, bytes })).sort((a, b) => b.bytes - a.bytes);
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { raw, gzip, metafile } = buildWorker("dist");
  console.log(`bundle: the ${BUDGETED_ENV} Worker (wrangler.toml [env.${BUDGETED_ENV}])`);
  const parts = bundleBreakdown(metafile);
  const total = parts.reduce((sum, p) => sum + p.bytes, 0);
  console.log("bundle: largest inputs (minified bytes, before gzip):");
  for (const { group, bytes } of parts.slice(0, 12)) {
    console.log(`  ${kib(bytes).padStart(10)} ${((100 * bytes) / total).toFixed(1).padStart(5)} %  ${group}`);
  }
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
}

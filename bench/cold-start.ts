/**
 * `npm run bench:cold-start [-- --baseline <git ref>] [--runs N] [--env E] [--baseline-env E]`:
 * what the Worker bundle costs at start-up, for this tree's bundle and optionally a baseline's
 * (built from `git archive <ref>` with this checkout's node_modules), measured alternately so
 * both see the same machine load. `--env` / `--baseline-env` pick the wrangler environment each
 * is built for (default: the top level, D1 and Postgres); `production` is the Postgres-only
 * Worker that deploys, started with a Neon-style DATABASE_URL and Upstash settings that the two
 * measured requests never reach (neither touches the database or the limiter).
 *
 * Per bundle, per run, each in a fresh process:
 * - import (Node): `await import(bundle)` in a new Node process: reading, parsing, compiling and
 *   evaluating the module in V8 (the engine workerd uses), nothing else;
 * - workerd: a new workerd through Miniflare with the bundle, wrangler.toml's compatibility
 *   settings and an empty in-memory D1: time until it is ready (process start, script compiled
 *   and evaluated), then the first GET /healthz (the app is built on the first request) and the
 *   first GET /v1/me without a token (a route behind the kernel's authentication: 401);
 * - an empty Worker (`export default { fetch: () => new Response("ok") }`) gives workerd's own
 *   start-up, so the difference is the bundle's.
 *
 * Output: a Markdown table (printed) and bench/results/cold-start.json (every run).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { buildWorker } from "../scripts/build.mjs";
import { WRANGLER_CLI } from "../scripts/wrangler-cli.mjs";
import { startBuiltWorker } from "../test/support/built-worker";
import { REPO_ROOT } from "../test/support/server-process";

const { values } = parseArgs({
  options: {
    baseline: { type: "string" },
    runs: { type: "string", default: "9" },
    env: { type: "string", default: "" },
    "baseline-env": { type: "string", default: "" },
  },
});
const runs = Number(values.runs);
const OFFLINE = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const work = mkdtempSync(join(tmpdir(), "udh-cold-start-"));

/** What a bundle built for `env` is started with beyond wrangler.toml's [vars]. */
function varsFor(env: string): Record<string, string> {
  if (env !== "production") return {};
  return {
    DATABASE_URL: "postgres://bench:unused@ep-cold-start.bench.invalid/neondb",
    RATE_LIMIT_STORE: "upstash",
    UPSTASH_REDIS_REST_URL: "https://cold-start.bench.invalid",
    UPSTASH_REDIS_REST_TOKEN: "unused",
  };
}

/** Builds `ref`'s Worker bundle for `env` with its own wrangler.toml and scripts; returns the bundle's path. */
function buildBaseline(ref: string, env: string): string {
  const src = join(work, "baseline");
  mkdirSync(src);
  const archive = spawnSync("sh", ["-c", `git archive "$0" | tar -x -C "$1"`, ref, src], { cwd: REPO_ROOT });
  if (archive.status !== 0) throw new Error(`git archive ${ref} failed: ${archive.stderr}`);
  symlinkSync(join(REPO_ROOT, "node_modules"), join(src, "node_modules"));
  const out = join(work, "baseline-dist");
  const build = spawnSync(
    process.execPath,
    [WRANGLER_CLI, "deploy", "--dry-run", "--env", env, "--outdir", out],
    {
      cwd: src,
      env: { ...process.env, ...OFFLINE },
      encoding: "utf8",
    },
  );
  if (build.status !== 0) throw new Error(`building ${ref} failed:\n${build.stderr}`);
  return join(out, "index.js");
}

/** One import of the bundle in a fresh Node process, in ms. */
function nodeImportMs(bundle: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(bundle)}); console.log(performance.now() - t);`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`importing ${bundle} failed:\n${run.stderr}`);
  return Number(run.stdout.trim());
}

interface WorkerdRun {
  readyMs: number;
  healthzMs: number;
  meMs: number;
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await f();
  return [value, performance.now() - t0];
}

/** One cold start in a fresh workerd: ready, then the first /healthz and the first /v1/me. */
async function workerdRun(
  bundle: string,
  routes: boolean,
  vars: Record<string, string>,
): Promise<WorkerdRun> {
  const [worker, readyMs] = await timed(() => startBuiltWorker(bundle, { vars }));
  try {
    if (!routes) return { readyMs, healthzMs: Number.NaN, meMs: Number.NaN };
    const [healthz, healthzMs] = await timed(() => worker.fetch("/healthz"));
    if (healthz.status !== 200) throw new Error(`/healthz answered ${healthz.status}`);
    await healthz.arrayBuffer();
    const [me, meMs] = await timed(() => worker.fetch("/v1/me"));
    if (me.status !== 401) throw new Error(`/v1/me without a token answered ${me.status}`);
    await me.arrayBuffer();
    return { readyMs, healthzMs, meMs };
  } finally {
    await worker.dispose();
  }
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : Number.NaN;
};
const fmt = (x: number) => (Number.isNaN(x) ? "–" : x.toFixed(0));
const kib = (n: number) => (n / 1024).toFixed(1);

try {
  const empty = join(work, "empty.js");
  writeFileSync(empty, `export default { fetch: () => new Response("ok") };\n`);
  const envLabel = (env: string) => (env ? ` [env.${env}]` : " (top level)");
  const bundles: { label: string; path: string; routes: boolean; vars: Record<string, string> }[] = [
    { label: "empty Worker", path: empty, routes: false, vars: {} },
  ];
  const baselineEnv = values["baseline-env"] ?? "";
  if (values.baseline)
    bundles.push({
      label: `baseline (${values.baseline})${envLabel(baselineEnv)}`,
      path: buildBaseline(values.baseline, baselineEnv),
      routes: true,
      vars: varsFor(baselineEnv),
    });
  const env = values.env ?? "";
  bundles.push({
    label: `this tree${envLabel(env)}`,
    // The top level carries D1 and runs here on it, like a top-level baseline.
    path: buildWorker(join(work, "dist"), { quiet: true, env }).bundle,
    routes: true,
    vars: varsFor(env),
  });

  const results = bundles.map((b) => ({
    ...b,
    gzip: gzipSync(readFileSync(b.path), { level: 9 }).length,
    raw: readFileSync(b.path).length,
    importMs: [] as number[],
    workerd: [] as WorkerdRun[],
  }));
  // Alternating, so a burst of load on the shared machine hits every bundle alike.
  for (let i = 0; i < runs; i++) {
    for (const r of results) {
      r.importMs.push(nodeImportMs(r.path));
      r.workerd.push(await workerdRun(r.path, r.routes, r.vars));
    }
    process.stderr.write(`run ${i + 1}/${runs}\n`);
  }

  const lines = [
    `Cold start, median of ${runs} runs (ms); ${new Date().toISOString()}`,
    "",
    "| bundle | raw KiB | gzip KiB | import (Node) | workerd ready | first /healthz | first /v1/me (401) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...results.map(
      (r) =>
        `| ${r.label} | ${kib(r.raw)} | ${kib(r.gzip)} | ${fmt(median(r.importMs))} | ${fmt(median(r.workerd.map((w) => w.readyMs)))} | ${fmt(median(r.workerd.map((w) => w.healthzMs)))} | ${fmt(median(r.workerd.map((w) => w.meMs)))} |`,
    ),
  ];
  console.log(lines.join("\n"));
  mkdirSync(join(REPO_ROOT, "bench/results"), { recursive: true });
  writeFileSync(
    join(REPO_ROOT, "bench/results/cold-start.json"),
    `${JSON.stringify({ runs, results: results.map(({ path: _, ...r }) => r) }, null, 2)}\n`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

/**
 * Measures the cost of each password-hash candidate on Node and, with --workerd, inside workerd
 * (a throwaway worker under `wrangler dev`). Results are recorded in docs/password-hashing.md.
 *
 *   npx tsx scripts/measure-password-hash.ts [--runs 7] [--workerd] [--port 8799]
 *
 * Two numbers per candidate: wall-clock ms per hash, and CPU ms per hash (process CPU time over
 * the runs, all threads), which is what Workers bill and limit and which suffers less from other
 * load on the machine. Inside a worker, Date.now() and performance.now() stand still while code
 * runs (Spectre mitigation), so workerd is timed from outside: wall time of one hash request
 * minus the median of a no-op request, and CPU time of the workerd process read from /proc
 * (Linux only). Cheap candidates (under 50 ms) get five times the runs.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  hashPassword,
  type PasswordHashParams,
  scryptMemoryBytes,
  verifyPassword,
} from "../functions/lib/password";

const CANDIDATES: Record<string, PasswordHashParams> = {
  // OWASP Password Storage Cheat Sheet, scrypt: N=2^17 r=8 p=1 and its listed equivalents.
  "scrypt ln=17 r=8 p=1": { algorithm: "scrypt", logN: 17, r: 8, p: 1 },
  "scrypt ln=16 r=8 p=2": { algorithm: "scrypt", logN: 16, r: 8, p: 2 },
  "scrypt ln=15 r=8 p=3": { algorithm: "scrypt", logN: 15, r: 8, p: 3 },
  "scrypt ln=14 r=8 p=5": { algorithm: "scrypt", logN: 14, r: 8, p: 5 },
  "scrypt ln=13 r=8 p=10": { algorithm: "scrypt", logN: 13, r: 8, p: 10 },
  // Cap of production Workers, and OWASP's PBKDF2-HMAC-SHA256 figure for comparison.
  "pbkdf2-sha256 i=100000": { algorithm: "pbkdf2-sha256", iterations: 100_000 },
  "pbkdf2-sha256 i=600000": { algorithm: "pbkdf2-sha256", iterations: 600_000 },
};

const PASSWORD = "correct horse battery staple";

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const RUNS = option("--runs", 7);

type Row = { name: string; memMiB: string; min: number; median: number; cpu: number; note?: string };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summarise = (name: string, params: PasswordHashParams, ms: number[], cpuMs: number): Row => ({
  name,
  memMiB: params.algorithm === "scrypt" ? (scryptMemoryBytes(params) / 2 ** 20).toFixed(1) : "-",
  min: Math.min(...ms),
  median: median(ms),
  cpu: cpuMs / ms.length,
});

function print(title: string, rows: Row[]) {
  console.log(`\n## ${title} (${RUNS}+ runs after 1 warm-up, ms per hash)\n`);
  console.log(
    "| candidate | memory MiB | wall min | wall median | CPU | note |\n| --- | ---: | ---: | ---: | ---: | --- |",
  );
  for (const r of rows) {
    const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "-");
    console.log(`| ${r.name} | ${r.memMiB} | ${f(r.min)} | ${f(r.median)} | ${f(r.cpu)} | ${r.note ?? ""} |`);
  }
}

/** Runs `once` after a warm-up, RUNS times (5× for cheap ones); wall ms per run and total CPU ms. */
async function repeat(once: () => Promise<number>, cpuNow: () => number) {
  const warm = await once();
  const runs = warm < 50 ? RUNS * 5 : RUNS;
  const ms: number[] = [];
  const cpuStart = cpuNow();
  for (let i = 0; i < runs; i++) ms.push(await once());
  return { ms, cpuMs: cpuNow() - cpuStart };
}

async function measureNode(): Promise<Row[]> {
  const rows: Row[] = [];
  // process.cpuUsage covers every thread, including the libuv pool where scrypt runs.
  const cpuNow = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  for (const [name, params] of Object.entries(CANDIDATES)) {
    const { ms, cpuMs } = await repeat(async () => {
      const t = performance.now();
      await hashPassword(PASSWORD, { params });
      return performance.now() - t;
    }, cpuNow);
    rows.push(summarise(name, params, ms, cpuMs));
  }
  return rows;
}

/** CPU ms used so far by every `workerd` process below `pid` (Linux /proc; NaN elsewhere). */
function workerdCpuMs(pid: number): number {
  try {
    const ticksPerMs = 100 / 1000; // USER_HZ is 100 on Linux
    let total = 0;
    const stats = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .map((d) => {
        try {
          return readFileSync(`/proc/${d}/stat`, "utf8");
        } catch {
          return "";
        }
      });
    const byPid = new Map<number, { ppid: number; comm: string; ticks: number }>();
    for (const stat of stats) {
      const m = /^(\d+) \((.*)\) \S+ (\d+)(?: \S+){9} (\d+) (\d+)/.exec(stat);
      if (m) byPid.set(Number(m[1]), { ppid: Number(m[3]), comm: m[2]!, ticks: Number(m[4]) + Number(m[5]) });
    }
    const below = (p: number): boolean => p === pid || (p > 1 && below(byPid.get(p)?.ppid ?? 0));
    for (const [p, info] of byPid) if (info.comm === "workerd" && below(p)) total += info.ticks / ticksPerMs;
    return total;
  } catch {
    return Number.NaN;
  }
}

const workerSource = (passwordModule: string) => `
import { hashPassword } from ${JSON.stringify(passwordModule)};
const CANDIDATES = ${JSON.stringify(CANDIDATES)};
export default {
  async fetch(request) {
    const name = new URL(request.url).searchParams.get("c");
    if (name === null) return new Response("ok");
    try {
      return Response.json({ ok: true, hash: await hashPassword(${JSON.stringify(PASSWORD)}, { params: CANDIDATES[name] }) });
    } catch (error) {
      return Response.json({ ok: false, error: String(error) });
    }
  },
};
`;

async function measureWorkerd(port: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), "measure-password-hash-"));
  const root = resolve(fileURLToPath(import.meta.url), "../..");
  writeFileSync(join(dir, "worker.js"), workerSource(join(root, "functions/lib/password.ts")));
  writeFileSync(
    join(dir, "wrangler.json"),
    JSON.stringify({
      name: "measure-password-hash",
      main: "worker.js",
      compatibility_date: "2026-04-01",
      compatibility_flags: ["nodejs_compat"],
    }),
  );
  const child = spawn(
    "npx",
    [
      "wrangler",
      "dev",
      "--config",
      join(dir, "wrangler.json"),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
    ].concat([
      "--inspector-port",
      String(port + 1),
      "--log-level",
      "warn",
      "--show-interactive-dev-session=false",
    ]),
    {
      cwd: root,
      detached: true, // own process group, so the wrangler+workerd tree can be stopped by its id
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    },
  );
  const stop = () => {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const base = `http://127.0.0.1:${port}/`;
    const timed = async (query: string) => {
      const t = performance.now();
      const body = await (await fetch(base + query)).text();
      return { ms: performance.now() - t, body };
    };
    for (let start = Date.now(); ; ) {
      if (
        await timed("").then(
          () => true,
          () => false,
        )
      )
        break;
      if (Date.now() - start > 90_000) throw new Error("wrangler dev did not start");
      await new Promise((r) => setTimeout(r, 500));
    }
    const noop: number[] = [];
    const cpuBefore = workerdCpuMs(child.pid!);
    for (let i = 0; i < 50; i++) noop.push((await timed("")).ms);
    const overhead = median(noop);
    // Per-request CPU of workerd itself (HTTP, routing), to subtract from each hash request.
    const noopCpuPerRequest = (workerdCpuMs(child.pid!) - cpuBefore) / noop.length;
    console.log(
      `\nworkerd no-op request: wall median ${overhead.toFixed(2)} ms, CPU ${noopCpuPerRequest.toFixed(2)} ms (subtracted below)`,
    );

    const rows: Row[] = [];
    for (const [name, params] of Object.entries(CANDIDATES)) {
      const query = `?c=${encodeURIComponent(name)}`;
      const first = JSON.parse((await timed(query)).body) as { ok: boolean; hash?: string; error?: string };
      if (!first.ok) {
        rows.push({ ...summarise(name, params, [Number.NaN], Number.NaN), note: `fails: ${first.error}` });
        continue;
      }
      const { ms, cpuMs } = await repeat(
        async () => (await timed(query)).ms - overhead,
        () => workerdCpuMs(child.pid!),
      );
      // A hash made in workerd must verify on Node (and so on Lambda): the stored format is portable.
      const portable = (await verifyPassword(PASSWORD, first.hash!, { params })).valid;
      const row = summarise(name, params, ms, cpuMs - noopCpuPerRequest * ms.length);
      rows.push({ ...row, note: portable ? "verifies on Node" : "DOES NOT verify on Node" });
    }
    return rows;
  } finally {
    stop();
  }
}

print(`Node ${process.version}`, await measureNode());
if (flag("--workerd"))
  print("workerd (wrangler dev, nodejs_compat)", await measureWorkerd(option("--port", 8799)));

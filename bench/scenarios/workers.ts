/**
 * The Workers side: the gzip size of the bundle `npm run build` produces (its own printout), and
 * the time `wrangler dev` takes from spawn until /healthz answers in workerd (bundling included,
 * as a developer or CI waits for it), median of a few runs. Offline: metrics and the cf fetch off.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WRANGLER_CLI } from "../../scripts/wrangler-cli.mjs";
import { freePort } from "../../test/support/ports";
import { REPO_ROOT } from "../../test/support/server-process";

export interface WorkersResults {
  bundle: { rawKiB: number; gzipKiB: number; budgetKiB: number; withinBudget: boolean };
  startMs: { runs: number[]; median: number };
}

const OFFLINE = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };

/** Runs `npm run build`'s script and reads the sizes it prints (it exits 1 when over budget). */
export function bundleSize(): WorkersResults["bundle"] {
  const run = spawnSync(process.execPath, ["scripts/build.mjs"], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...OFFLINE },
    encoding: "utf8",
    timeout: 180_000,
  });
  const out = `${run.stdout}\n${run.stderr}`;
  const m = /bundle: ([\d.]+) KiB raw, ([\d.]+) KiB gzip \(budget ([\d.]+) KiB\)/.exec(out);
  if (!m) throw new Error(`npm run build printed no bundle size:\n${out.slice(-2000)}`);
  return {
    rawKiB: Number(m[1]),
    gzipKiB: Number(m[2]),
    budgetKiB: Number(m[3]),
    withinBudget: run.status === 0,
  };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Ends the process group we created for wrangler (wrangler and its workerd child). */
async function stopGroup(child: ChildProcess): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), 5_000);
  await exited(child);
  clearTimeout(timer);
  signal("SIGKILL"); // a workerd that outlived wrangler
}

async function startOnce(dir: string, envFile: string): Promise<number> {
  const port = await freePort();
  const args = [WRANGLER_CLI, "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", "0"];
  args.push("--persist-to", join(dir, "state"), "--env-file", envFile, "--log-level", "warn");
  args.push("--show-interactive-dev-session=false");
  const t0 = performance.now();
  // A process group of its own, so wrangler and workerd are ended together by id.
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...OFFLINE },
    stdio: "ignore",
    detached: true,
  });
  try {
    const deadline = t0 + 60_000;
    while (performance.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode})`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`)
        .then((res) => res.ok)
        .catch(() => false);
      if (ok) return Math.round(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error("wrangler dev did not answer /healthz within 60 s");
  } finally {
    await stopGroup(child);
  }
}

/** Median start time over `runs` cold starts of `wrangler dev`. */
export async function workerdStart(runs = 3): Promise<WorkersResults["startMs"]> {
  const dir = mkdtempSync(join(tmpdir(), "udh-workerd-"));
  try {
    const envFile = join(dir, "bench.env");
    const secret = () => randomBytes(32).toString("base64");
    writeFileSync(envFile, `IP_HASH_KEY=${secret()}\nENCRYPTION_KEYS=k1:${secret()}\n`);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await startOnce(dir, envFile));
    const sorted = [...times].sort((a, b) => a - b);
    return { runs: times, median: sorted[Math.floor(sorted.length / 2)]! };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

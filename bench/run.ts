/**
 * `npm run bench`: the whole benchmark, bounded (about 3–5 minutes on 2 cores). Builds the
 * Worker and times workerd's start, starts the sidecar (WebSocket relay to Postgres, Upstash
 * REST bridge to Redis) and the bench server in processes of their own, drives the server with
 * autocannon, runs pgbench against the same scratch database, and writes
 * bench/results/latest.json and latest.md. Settings come from BENCH_* variables (see README).
 *
 * WAN mode (BENCH_WAN_MS=25: one-way ms): the sidecar delays every database and rate-limit
 * message by that much each way, and only the latency scenario runs (bench/scenarios/latency.ts);
 * it writes bench/results/wan-<BENCH_LABEL>.json and .md. BENCH_SERVER runs another server
 * script (e.g. an older commit's bench/server.ts in a worktree) behind the same sidecar.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { type ChildScript, REPO_ROOT, startScript } from "../test/support/server-process";
import { watchProcess } from "./lib/cpu";
import { describeMachine, gitCommit, type Machine } from "./lib/machine";
import { type BenchResults, renderMarkdown } from "./lib/report";
import { followRequestLog, type RequestLog } from "./lib/request-log";
import { renderWanMarkdown, type WanResults } from "./lib/wan-report";
import { latencyScenario } from "./scenarios/latency";
import { mfaScenario } from "./scenarios/mfa";
import { passwordHashScenario } from "./scenarios/password-hash";
import { readScenario } from "./scenarios/reads";
import { usageScenario } from "./scenarios/usage";
import { bundleSize, workerdStart } from "./scenarios/workers";

const setting = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const settings = {
  mfaUsers: setting("BENCH_MFA_USERS", 120),
  mfaConnections: setting("BENCH_MFA_CONNECTIONS", 8),
  readConnections: setting("BENCH_READ_CONNECTIONS", 64),
  usageConnections: setting("BENCH_USAGE_CONNECTIONS", 32),
  durationS: setting("BENCH_DURATION", 10),
  workerdRuns: setting("BENCH_WORKERD_RUNS", 3),
};
const wan = {
  delayMs: setting("BENCH_WAN_MS", 0),
  requests: setting("BENCH_WAN_REQUESTS", 40),
  users: setting("BENCH_WAN_USERS", 30),
};
const serverScript = process.env.BENCH_SERVER ?? "bench/server.ts";
const label = process.env.BENCH_LABEL ?? "latest";
if (!/^[\w.-]+$/.test(label)) throw new Error("BENCH_LABEL: letters, digits, '.', '_' and '-' only");

const say = (msg: string) => console.log(`[bench] ${msg}`);
const startedAt = new Date();
const t0 = performance.now();
const resultsDir = join(REPO_ROOT, "bench", "results");

say("machine and versions");
const machine = await describeMachine();

const secret = () => randomBytes(32).toString("base64");
const children: ChildScript[] = [];
/** Stops what was started, the server before the sidecar it goes through. */
const stopAll = async () => {
  for (const child of [...children].reverse()) await child.stop();
};
process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));

interface Stack {
  base: string;
  database: string;
  log: RequestLog;
  wireUrl: string;
}

/** Starts the sidecar and the server under test, in processes of their own. */
async function startStack(): Promise<Stack> {
  const sidecar = await startScript({
    script: "bench/sidecar.ts",
    env: { BENCH_WAN_MS: String(wan.delayMs) },
  });
  children.push(sidecar);
  const server = await startScript({
    script: serverScript,
    env: {
      APP_ENV: "production",
      IP_HASH_KEY: secret(),
      ENCRYPTION_KEYS: `k1:${secret()}`,
      PG_RELAY_PORT: String(sidecar.ready.relayPort),
      UPSTASH_REDIS_REST_URL: String(sidecar.ready.bridgeUrl),
      UPSTASH_REDIS_REST_TOKEN: String(sidecar.ready.bridgeToken),
      // Every virtual user comes from 127.0.0.1: per-network limits would measure the limiter's
      // 429s. Per-user and per-account limits stay at their defaults.
      RATE_LIMIT_MFA_PER_NETWORK: "1000000/900",
      RATE_LIMIT_PASSWORD_PER_NETWORK: "1000000/900",
      RATE_LIMIT_PASSWORD_PER_ACCOUNT_NETWORK: "1000000/900",
      RATE_LIMIT_REGISTER_PER_NETWORK: "1000000/3600",
      // Virtual users enroll factors without reading mail.
      EMAIL_VERIFICATION: "off",
    },
  });
  children.push(server);
  watchProcess("server", server.pid);
  watchProcess("sidecar", sidecar.pid);
  watchProcess("bench", process.pid);
  const base = `http://127.0.0.1:${server.ready.port}`;
  const database = String(server.ready.database);
  say(`server ${serverScript}, pid ${server.pid} on ${base}, database ${database}`);
  return { base, database, log: followRequestLog(server, base), wireUrl: String(sidecar.ready.wireUrl) };
}

function write(name: string, json: unknown, markdown: string) {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(resultsDir, `${name}.md`), markdown);
  console.log(`\n${markdown}`);
}

const elapsedS = () => Math.round((performance.now() - t0) / 1000);

/** The whole bench: Workers, password hash, MFA login, reads, usage with pgbench. */
async function fullBench(m: Machine) {
  say("Workers bundle (npm run build)");
  const bundle = bundleSize();
  say(`workerd start (${settings.workerdRuns} runs)`);
  const startMs = await workerdStart(settings.workerdRuns);
  say("password hash alone");
  const passwordHash = await passwordHashScenario();
  const { base, database, log } = await startStack();
  say(`MFA login flow, ${settings.mfaUsers} users`);
  const mfa = await mfaScenario(base, log, settings.mfaUsers, settings.mfaConnections);
  say("reads: GET /v1/me, GET /healthz");
  const reads = await readScenario(base, log, settings.readConnections, settings.durationS);
  say("usage increments and pgbench");
  const usage = await usageScenario(base, log, database, settings.usageConnections, settings.durationS);
  log.stop();
  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    totalS: elapsedS(),
    command: "npm run bench",
    settings,
    machine: m,
    passwordHash,
    mfa,
    reads,
    usage,
    workers: { bundle, startMs },
  };
  write("latest", results, renderMarkdown(results));
  say(`wrote bench/results/latest.json and latest.md (${results.totalS} s)`);
}

/**
 * WAN mode: the latency scenario only. The throughput scenarios and the Workers start-up would
 * take minutes and say nothing about round trips.
 */
async function wanBench(m: Machine) {
  const { base, log, wireUrl } = await startStack();
  say(`WAN mode: ${wan.delayMs} ms each way`);
  const latency = await latencyScenario(base, log, wireUrl, wan, say);
  log.stop();
  const results: WanResults = {
    startedAt: startedAt.toISOString(),
    totalS: elapsedS(),
    command: `BENCH_WAN_MS=${wan.delayMs} npm run bench`,
    label,
    server: serverScript,
    serverCommit: gitCommit(dirname(resolve(REPO_ROOT, serverScript))),
    settings: wan,
    machine: m,
    loadAverageAtEnd: loadavg().map((n) => Math.round(n * 100) / 100),
    latency,
  };
  write(`wan-${label}`, results, renderWanMarkdown(results));
  say(`wrote bench/results/wan-${label}.json and .md (${results.totalS} s)`);
}

try {
  await (wan.delayMs > 0 ? wanBench(machine) : fullBench(machine));
} finally {
  await stopAll();
}

/**
 * `npm run bench`: the whole benchmark, bounded (about 3–5 minutes on 2 cores). Builds the
 * Worker and times workerd's start, starts the sidecar (WebSocket relay to Postgres, Upstash
 * REST bridge to Redis) and the bench server in processes of their own, drives the server with
 * autocannon, runs pgbench against the same scratch database, and writes
 * bench/results/latest.json and latest.md. Settings come from BENCH_* variables (see README).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ChildScript, REPO_ROOT, startScript } from "../test/support/server-process";
import { watchProcess } from "./lib/cpu";
import { describeMachine } from "./lib/machine";
import { type BenchResults, renderMarkdown } from "./lib/report";
import { followRequestLog } from "./lib/request-log";
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

const say = (msg: string) => console.log(`[bench] ${msg}`);
const startedAt = new Date();
const t0 = performance.now();

say("machine and versions");
const machine = await describeMachine();
say("Workers bundle (npm run build)");
const bundle = bundleSize();
say(`workerd start (${settings.workerdRuns} runs)`);
const startMs = await workerdStart(settings.workerdRuns);
say("password hash alone");
const passwordHash = await passwordHashScenario();

const secret = () => randomBytes(32).toString("base64");
const children: ChildScript[] = [];
/** Stops what was started, the server before the sidecar it goes through. */
const stopAll = async () => {
  for (const child of [...children].reverse()) await child.stop();
};
process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));

try {
  const sidecar = await startScript({ script: "bench/sidecar.ts" });
  children.push(sidecar);
  const server = await startScript({
    script: "bench/server.ts",
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
  const log = followRequestLog(server, base);
  say(`server pid ${server.pid} on ${base}, database ${database}`);

  say(`MFA login flow, ${settings.mfaUsers} users`);
  const mfa = await mfaScenario(base, log, settings.mfaUsers, settings.mfaConnections);
  say("reads: GET /v1/me, GET /healthz");
  const reads = await readScenario(base, log, settings.readConnections, settings.durationS);
  say("usage increments and pgbench");
  const usage = await usageScenario(base, log, database, settings.usageConnections, settings.durationS);
  log.stop();

  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    totalS: Math.round((performance.now() - t0) / 1000),
    command: "npm run bench",
    settings,
    machine,
    passwordHash,
    mfa,
    reads,
    usage,
    workers: { bundle, startMs },
  };
  const dir = join(REPO_ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  const markdown = renderMarkdown(results);
  writeFileSync(join(dir, "latest.md"), markdown);
  console.log(`\n${markdown}`);
  say(`wrote bench/results/latest.json and latest.md (${results.totalS} s)`);
} finally {
  await stopAll();
}

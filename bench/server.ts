/**
 * The benchmark and multi-process test server: the app built as functions/node.ts builds it, but
 * on Postgres through the Neon serverless driver (WebSocket, via test/support/pg-relay.ts) and
 * with the Upstash rate limiter (REST, via test/support/upstash-bridge.ts in front of real Redis),
 * the production pair. Run: `node --import tsx bench/server.ts`.
 *
 * Environment (besides the app's own: IP_HASH_KEY, ENCRYPTION_KEYS, RATE_LIMIT_*, …):
 * - PORT (default 0: any free port), HOST (default 127.0.0.1);
 * - DATABASE_URL: a Postgres database to use (migrated unless MIGRATE_ON_START=false); without
 *   it a scratch database is created, migrated, and dropped on SIGTERM/SIGINT;
 * - PG_RELAY_PORT: a running relay to go through; without it one is started in this process;
 * - UPSTASH_REDIS_REST_URL/_TOKEN: a running bridge; without them one is started here, in front
 *   of REDIS_URL (default redis://127.0.0.1:6379).
 *
 * Prints one JSON line `{ msg: "listening", port, database }`, then the app's per-request log
 * lines, each with `rateLimitCalls` added (limit/peek calls the request made). Bench-only
 * instrumentation around the unchanged app: that counter, and the `X-Bench-Drain` header.
 */
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { neonConfig, Pool } from "@neondatabase/serverless";
import ws from "ws";
import type { Database } from "../db/database";
import { migrateDatabase } from "../db/migrate";
import { createApp } from "../functions/app";
import { loadConfig } from "../functions/config";
import { databaseOpener } from "../functions/platform/database-url";
import { rateLimiterFactory } from "../functions/platform/rate-limiter";
import type { RateLimiter } from "../functions/ratelimit/types";
import { PG_HOST, PG_PORT, PG_USER } from "../test/support/backends";
import { startPgRelay } from "../test/support/pg-relay";
import { startUpstashBridge } from "../test/support/upstash-bridge";

const env = process.env;
const cleanups: (() => Promise<void>)[] = [];

// The Neon driver speaks Postgres over a WebSocket, as in production; the relay turns it into TCP.
let relayPort = Number(env.PG_RELAY_PORT ?? 0);
if (!relayPort) {
  const relay = await startPgRelay({ host: PG_HOST, port: PG_PORT });
  cleanups.push(() => relay.close());
  relayPort = relay.port;
}
neonConfig.webSocketConstructor = ws;
neonConfig.wsProxy = (host, port) => `127.0.0.1:${relayPort}/v1?address=${host}:${port}`;
neonConfig.useSecureWebSocket = false;
neonConfig.pipelineConnect = false;
neonConfig.pipelineTLS = false;

let url = env.DATABASE_URL;
let database = url ? new URL(url).pathname.slice(1) : "";
if (!url) {
  database = `udh_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = new Pool({
    connectionString: `postgres://${PG_USER}@${PG_HOST}:${PG_PORT}/postgres`,
    max: 1,
  });
  admin.on("error", () => {});
  await admin.query(`CREATE DATABASE ${database}`);
  url = `postgres://${PG_USER}@${PG_HOST}:${PG_PORT}/${database}`;
  // Runs before the relay closes (the admin pool goes through it); FORCE ends the app's connections.
  cleanups.unshift(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
    await admin.end().catch(() => {});
  });
}

const appEnv: Record<string, string | undefined> = { ...env, RATE_LIMIT_STORE: "upstash" };
if (!env.UPSTASH_REDIS_REST_URL || !env.UPSTASH_REDIS_REST_TOKEN) {
  const bridge = await startUpstashBridge(env.REDIS_URL ? { redisUrl: env.REDIS_URL } : {});
  cleanups.unshift(() => bridge.close());
  appEnv.UPSTASH_REDIS_REST_URL = bridge.url;
  appEnv.UPSTASH_REDIS_REST_TOKEN = bridge.token;
}

/** Undoes what was set up (scratch database, bridge, relay), then exits. */
async function exit(code: number): Promise<never> {
  for (const cleanup of cleanups) await cleanup().catch(() => {});
  process.exit(code);
}

let openDatabase: () => Database = () => {
  throw new Error("not opened yet");
};
const config = await (async () => {
  try {
    const loaded = loadConfig(appEnv);
    // The Node entry's pool (DATABASE_POOL_MAX), but the Neon driver unless DATABASE_DRIVER=pg
    // (the local host would otherwise pick pg, over TCP, bypassing the relay).
    openDatabase = databaseOpener(url, {
      perRequest: false,
      maxConnections: loaded.database.poolMax,
      driver: env.DATABASE_DRIVER ?? "neon",
    });
    if (env.MIGRATE_ON_START !== "false") await migrateDatabase(openDatabase());
    return loaded;
  } catch (error) {
    console.error(error); // a bad configuration or migration must not leave a scratch database behind
    return exit(1);
  }
})();

// Rate-limit calls per request: the limiter is made per request from the request's Database,
// and the Database is opened after the request id is set, so the id links the three.
const limiterFor = rateLimiterFactory(config);
const requestOf = new WeakMap<Database, string>();
const rateLimitCalls = new Map<string, number>();
const count = (requestId: string | undefined) => {
  if (requestId) rateLimitCalls.set(requestId, (rateLimitCalls.get(requestId) ?? 0) + 1);
};
function countingLimiter(inner: RateLimiter, requestId: string | undefined): RateLimiter {
  return {
    limit(checks) {
      count(requestId);
      return inner.limit(checks);
    },
    refund(checks) {
      count(requestId);
      return inner.refund(checks);
    },
    ping: () => inner.ping(),
  };
}

const app = createApp({
  config,
  database: (c) => {
    const db = openDatabase();
    requestOf.set(db, String(c.get("requestId")));
    return db;
  },
  rateLimiter: (db) => countingLimiter(limiterFor(db), requestOf.get(db)),
  clientIp: (c) => getConnInfo(c).remote.address ?? null,
  log: (line) => {
    if (line.msg === "request" && typeof line.requestId === "string") {
      line = { ...line, rateLimitCalls: rateLimitCalls.get(line.requestId) ?? 0 };
      rateLimitCalls.delete(line.requestId as string);
    }
    console.log(JSON.stringify(line));
  },
});

// `X-Bench-Drain` (the bench's scenario markers): the request waits until every other request
// in flight has finished, so its log line comes after theirs, even after those whose client
// went away when a timed run ended (the server finishes them all the same).
let inFlight = 0;
const drained: (() => void)[] = [];
// `bindings` carries node-server's incoming socket, which getConnInfo reads for the client IP.
async function fetch(req: Request, bindings: unknown): Promise<Response> {
  if (req.headers.has("x-bench-drain")) {
    while (inFlight > 0) await new Promise<void>((resolve) => drained.push(resolve));
    return app.fetch(req, bindings);
  }
  inFlight++;
  try {
    return await app.fetch(req, bindings);
  } finally {
    if (--inFlight === 0) for (const resolve of drained.splice(0)) resolve();
  }
}

const server = serve({ fetch, port: Number(env.PORT ?? 0), hostname: env.HOST ?? "127.0.0.1" }, (info) =>
  console.log(JSON.stringify({ level: "info", msg: "listening", port: info.port, database })),
);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    if ("closeAllConnections" in server) server.closeAllConnections();
  });
  await exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

/**
 * Cloudflare Workers → AppDeps, shared by the full Worker (functions/index.ts) and the per-route
 * Workers (functions/standalone/). Database: DATABASE_URL when set (Neon Postgres only, over Neon's HTTP endpoint), else the
 * D1 binding `DB` (platform/worker-database.ts). Nothing here may import a Node-only module or
 * platform/database-url.ts (libSQL): whatever this module reaches ships in the Worker bundle.
 */
import type { Database } from "../../db/database";
import { loadConfig } from "../config";
import type { AppDeps } from "../context";
import { rateLimiterFactory } from "./rate-limiter";
import { workerDatabase } from "./worker-database";

/** The Worker's bindings: D1 as `DB`, or DATABASE_URL; every other variable and secret as strings. */
export interface WorkerEnv {
  DB?: D1Database;
  DATABASE_URL?: string;
  /** Unset or neon-http: Workers reach Postgres over Neon's HTTP endpoint only. */
  DATABASE_DRIVER?: string;
  /** Replaces Neon's SQL-over-HTTP endpoint (a local Neon proxy, a test stand-in). */
  DATABASE_HTTP_ENDPOINT?: string;
  [name: string]: unknown;
}

/** Opens the Worker's database for one request or one cron run. */
export function workerDatabaseOpener(env: WorkerEnv): () => Database {
  return workerDatabase(env);
}

/** Turns a Workers environment into the app's dependencies (once per isolate). */
export function workerDeps(env: WorkerEnv): AppDeps {
  const config = loadConfig(env);
  return {
    config,
    database: workerDatabaseOpener(env),
    rateLimiter: rateLimiterFactory(config),
    // Set by Cloudflare's edge; a client cannot forge it.
    clientIp: (c) => c.req.header("cf-connecting-ip") ?? null,
  };
}

/**
 * Cloudflare Workers → AppDeps, shared by the full Worker (functions/index.ts) and the per-route
 * Workers (functions/standalone/). Database: DATABASE_URL when set (Postgres, always through
 * the Neon driver: Workers have no TCP sockets for `pg`; or libSQL over HTTP), else the D1
 * binding `DB`.
 */
import type { Database } from "../../db/database";
import { d1Database } from "../../db/dialect";
import { loadConfig } from "../config";
import type { AppDeps } from "../context";
import { rateLimiterFactory } from "./rate-limiter";
import { serverlessDatabaseOpener as databaseOpener } from "./serverless-database";

/** The Worker's bindings: D1 as `DB`, or DATABASE_URL; every other variable and secret as strings. */
export interface WorkerEnv {
  DB?: D1Database;
  DATABASE_URL?: string;
  DATABASE_AUTH_TOKEN?: string;
  [name: string]: unknown;
}

/** Opens the Worker's database for one request or one cron run. */
export function workerDatabaseOpener(env: WorkerEnv): () => Database {
  const { DB } = env;
  if (env.DATABASE_URL) {
    return databaseOpener(env.DATABASE_URL, {
      perRequest: true,
      ...(env.DATABASE_AUTH_TOKEN ? { authToken: env.DATABASE_AUTH_TOKEN } : {}),
    });
  }
  if (DB) return () => d1Database(DB);
  throw new Error("no database: set DATABASE_URL or bind a D1 database as DB");
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

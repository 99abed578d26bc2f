/**
 * Cloudflare Workers entry (`wrangler dev`, `wrangler deploy`). Database: DATABASE_URL when set
 * (Neon Postgres, or libSQL over HTTP), else the D1 binding `DB`.
 */

import type { Database } from "../db/database";
import { d1Database } from "../db/dialect";
import { type App, createApp } from "./app";
import { loadConfig } from "./config";
import { databaseOpener } from "./platform/database-url";
import { rateLimiterFactory } from "./platform/rate-limiter";

export interface WorkerEnv {
  DB?: D1Database;
  DATABASE_URL?: string;
  DATABASE_AUTH_TOKEN?: string;
  [name: string]: unknown;
}

/** Builds the app for a Workers environment (once per isolate). */
export function createWorkerApp(env: WorkerEnv): App {
  const config = loadConfig(env);
  const { DB } = env;
  let open: () => Database;
  if (env.DATABASE_URL) {
    open = databaseOpener(env.DATABASE_URL, {
      perRequest: true,
      ...(env.DATABASE_AUTH_TOKEN ? { authToken: env.DATABASE_AUTH_TOKEN } : {}),
    });
  } else if (DB) {
    open = () => d1Database(DB);
  } else {
    throw new Error("no database: set DATABASE_URL or bind a D1 database as DB");
  }
  return createApp({
    config,
    database: open,
    rateLimiter: rateLimiterFactory(config),
    // Set by Cloudflare's edge; a client cannot forge it.
    clientIp: (c) => c.req.header("cf-connecting-ip") ?? null,
  });
}

let app: App | undefined;

export default {
  fetch(request, env, ctx) {
    app ??= createWorkerApp(env);
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<WorkerEnv>;

/**
 * The Worker's database: the D1 binding `DB`, or DATABASE_URL as Neon Postgres. Its own module,
 * not platform/database-url.ts, because that one also opens libSQL URLs and so imports
 * @libsql/client, which would ship in every Worker bundle though Workers never use it (D1 is the
 * Workers' SQLite). libSQL over HTTP on Workers is therefore not supported: a libsql:// or
 * https:// DATABASE_URL fails the Worker's start-up, naming the alternatives.
 */
import { Pool, type PoolClient } from "@neondatabase/serverless";
import type { Database } from "../../db/database";
import { d1Database, neonDatabase } from "../../db/dialect";

/** What DATABASE_URL other than postgres:// fails with on Workers. */
export const WORKERS_DATABASE_URL_UNSUPPORTED =
  "invalid configuration: on Cloudflare Workers DATABASE_URL must be a postgres:// URL (Neon); " +
  "for SQLite bind a D1 database as DB (libSQL is supported on Node and Lambda only)";

/** As platform/database-url.ts POOL_CONNECT_TIMEOUT_MS: the longest a request waits for its connection. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * One Pool per request: on Workers a Pool's WebSocket belongs to the request's I/O context and must
 * not outlive it, so it is ended when the request's Database is closed. Its error events are heard
 * (and dropped: the request sees its own error from its query) so a dropped connection cannot
 * surface as an unhandled error.
 */
function requestPool(url: string): Pool {
  const pool = new Pool({ connectionString: url, max: 1, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  pool.on("error", () => {});
  pool.on("connect", (client: PoolClient) => client.on("error", () => {}));
  return pool;
}

/** Opens the database for one request or one cron run, from DATABASE_URL (Neon) or the D1 binding. */
export function workerDatabase(env: { DB?: D1Database; DATABASE_URL?: string }): () => Database {
  const { DB, DATABASE_URL: url } = env;
  if (url) {
    if (!/^postgres(ql)?:\/\//i.test(url)) throw new Error(WORKERS_DATABASE_URL_UNSUPPORTED);
    return () => neonDatabase(requestPool(url), { endOnClose: true });
  }
  if (DB) return () => d1Database(DB);
  throw new Error("no database: set DATABASE_URL or bind a D1 database as DB");
}

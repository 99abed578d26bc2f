/**
 * The Worker's database: the D1 binding `DB`, or DATABASE_URL as Neon Postgres, by default over
 * Neon's SQL-over-HTTP endpoint (`neon()`, db/dialect-neon-http.ts): each statement one HTTP
 * request, each atomic batch one `transaction([...])` request, and no connection to set up. A
 * per-request WebSocket Pool (DATABASE_DRIVER=neon) first opens a WebSocket and runs Postgres's
 * start-up, two round trips before the request's first query; it is kept for what HTTP cannot
 * do (an interactive transaction; none is used today). Its own module,
 * not platform/database-url.ts, because that one also opens libSQL URLs and so imports
 * @libsql/client, which would ship in every Worker bundle though Workers never use it (D1 is the
 * Workers' SQLite). libSQL over HTTP on Workers is therefore not supported: a libsql:// or
 * https:// DATABASE_URL fails the Worker's start-up, naming the alternatives.
 */
import { neon, Pool, type PoolClient } from "@neondatabase/serverless";
import type { Database } from "../../db/database";
import { d1Database, neonDatabase } from "../../db/dialect";
import { neonHttpDatabase } from "../../db/dialect-neon-http";

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

/** What DATABASE_DRIVER other than neon-http or neon fails with on Workers. */
const WORKERS_DRIVER_UNSUPPORTED =
  "invalid configuration: on Cloudflare Workers DATABASE_DRIVER must be neon-http (the default) or neon " +
  "(pg needs TCP sockets: Node and Lambda only)";

/**
 * Opens the database for one request or one cron run, from DATABASE_URL (Neon: over HTTP, or a
 * WebSocket Pool with DATABASE_DRIVER=neon) or the D1 binding.
 */
export function workerDatabase(env: {
  DB?: D1Database;
  DATABASE_URL?: string;
  DATABASE_DRIVER?: string;
}): () => Database {
  const { DB, DATABASE_URL: url, DATABASE_DRIVER: driver = "" } = env;
  if (url) {
    if (!/^postgres(ql)?:\/\//i.test(url)) throw new Error(WORKERS_DATABASE_URL_UNSUPPORTED);
    if (driver === "neon") return () => neonDatabase(requestPool(url), { endOnClose: true });
    if (driver !== "" && driver !== "neon-http") throw new Error(WORKERS_DRIVER_UNSUPPORTED);
    // One query function for the isolate: it holds no connection, each statement is its own fetch.
    const client = neon(url);
    return () => neonHttpDatabase(client);
  }
  if (DB) return () => d1Database(DB);
  throw new Error("no database: set DATABASE_URL or bind a D1 database as DB");
}

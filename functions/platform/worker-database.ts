/**
 * The Worker's database: the D1 binding `DB`, or DATABASE_URL as Neon Postgres, by default over
 * Neon's SQL-over-HTTP endpoint (db/neon-http.ts, db/dialect-neon-http.ts): each statement one
 * HTTP request, each atomic batch one request run as one transaction, and no connection to set
 * up. A per-request WebSocket Pool (DATABASE_DRIVER=neon) first opens a WebSocket and runs
 * Postgres's start-up, two round trips before the request's first query; it is kept for what
 * HTTP cannot do (an interactive transaction; none is used today). Its own module, not
 * platform/database-url.ts, because that one also opens libSQL URLs and so imports
 * @libsql/client, which would ship in every Worker bundle though Workers never use it (D1 is the
 * Workers' SQLite). libSQL over HTTP on Workers is therefore not supported: a libsql:// or
 * https:// DATABASE_URL fails the Worker's start-up, naming the alternatives.
 *
 * Which of the three a build carries is decided when it is bundled: wrangler.toml's `define`
 * sets `process.env.WORKER_DATABASE` to "neon-http" for the preview and production Workers, so
 * esbuild folds the other branches away and their code (the Neon driver, D1 and SQLite's
 * drizzle) leaves the bundle; unset (the top level, `wrangler dev`, the workers tests), a
 * build carries all three and configuration chooses.
 */
import { Pool, type PoolClient } from "@neondatabase/serverless";
import type { Database } from "../../db/database";
import { d1Database, neonDatabase } from "../../db/dialect";
import { neonHttpDatabase } from "../../db/dialect-neon-http";
import { createNeonHttpClient } from "../../db/neon-http";

/** The one database path a build carries (wrangler.toml `define`), or undefined for all of them. */
const BUILT_FOR = process.env.WORKER_DATABASE;
const carriesWebSocket = BUILT_FOR === undefined;
const carriesHttp = BUILT_FOR === undefined || BUILT_FOR === "neon-http";
const carriesD1 = BUILT_FOR === undefined || BUILT_FOR === "d1";

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

/** A database path this build left out (see the header). */
const notInThisBuild = (what: string) =>
  new Error(
    `invalid configuration: ${what} is not in this Worker build, which carries ${BUILT_FOR} only ` +
      "(wrangler.toml define process.env.WORKER_DATABASE)",
  );

/**
 * Opens the database for one request or one cron run, from DATABASE_URL (Neon: over HTTP, or a
 * WebSocket Pool with DATABASE_DRIVER=neon) or the D1 binding. DATABASE_HTTP_ENDPOINT replaces
 * Neon's SQL-over-HTTP endpoint (derived from DATABASE_URL's host) for a local Neon proxy or a
 * test stand-in.
 */
export function workerDatabase(env: {
  DB?: D1Database;
  DATABASE_URL?: string;
  DATABASE_DRIVER?: string;
  DATABASE_HTTP_ENDPOINT?: string;
}): () => Database {
  const { DB, DATABASE_URL: url, DATABASE_DRIVER: driver = "", DATABASE_HTTP_ENDPOINT: endpoint } = env;
  if (url) {
    if (!/^postgres(ql)?:\/\//i.test(url)) throw new Error(WORKERS_DATABASE_URL_UNSUPPORTED);
    if (driver === "neon") {
      if (!carriesWebSocket) throw notInThisBuild("DATABASE_DRIVER=neon (the WebSocket Pool)");
      return () => neonDatabase(requestPool(url), { endOnClose: true });
    }
    if (driver !== "" && driver !== "neon-http") throw new Error(WORKERS_DRIVER_UNSUPPORTED);
    if (!carriesHttp) throw notInThisBuild("Postgres over HTTP");
    // One client for the isolate: it holds no connection, each statement is a fetch of its own.
    const client = createNeonHttpClient(url, endpoint ? { endpoint } : {});
    return () => neonHttpDatabase(client);
  }
  if (DB) {
    if (!carriesD1) throw notInThisBuild("D1");
    return () => d1Database(DB);
  }
  throw new Error("no database: set DATABASE_URL or bind a D1 database as DB");
}

/**
 * The Worker's database: the D1 binding `DB`, or DATABASE_URL as Neon Postgres over Neon's
 * SQL-over-HTTP endpoint (db/neon-http.ts, db/dialect-neon-http.ts): each statement one HTTP
 * request, each atomic batch one request run as one transaction, and no connection to set up.
 * The Worker has no WebSocket path: a per-request Pool would open a WebSocket and run
 * Postgres's start-up, two round trips before each request's first query, for nothing the HTTP
 * path lacks (the app needs no interactive transaction), and Neon's driver alone is a third of
 * the bundle budget. (Node and Lambda keep the Pool, or `pg`, on long-lived connections.)
 * Its own module, not platform/database-url.ts, because that one also opens libSQL URLs and so
 * imports @libsql/client, which Workers never use (D1 is the Workers' SQLite): a libsql:// or
 * https:// DATABASE_URL fails the Worker's start-up, naming the alternatives.
 *
 * Which of the two a build carries is decided when it is bundled: wrangler.toml's `define` sets
 * `process.env.WORKER_DATABASE` to "neon-http" for the preview and production Workers, so
 * esbuild folds the D1 branch away and D1 and SQLite's drizzle leave the bundle; unset (the
 * top level, `wrangler dev`, the workers tests), a build carries both and configuration chooses.
 */
import type { Database } from "../../db/database";
import { d1Database } from "../../db/dialect";
import { neonHttpDatabase } from "../../db/dialect-neon-http";
import { createNeonHttpClient } from "../../db/neon-http";

/** What DATABASE_URL other than postgres:// fails with on Workers. */
export const WORKERS_DATABASE_URL_UNSUPPORTED =
  "invalid configuration: on Cloudflare Workers DATABASE_URL must be a postgres:// URL (Neon); " +
  "for SQLite bind a D1 database as DB (libSQL is supported on Node and Lambda only)";

/** What DATABASE_DRIVER other than neon-http fails with on Workers. */
const WORKERS_DRIVER_UNSUPPORTED =
  "invalid configuration: on Cloudflare Workers DATABASE_DRIVER must be neon-http or unset (Postgres over " +
  "Neon's HTTP endpoint); neon (WebSocket) and pg (TCP) are for Node and Lambda";

/**
 * Opens the database for one request or one cron run, from DATABASE_URL (Neon over HTTP) or the
 * D1 binding. DATABASE_HTTP_ENDPOINT replaces Neon's SQL-over-HTTP endpoint (derived from
 * DATABASE_URL's host) for a local Neon proxy or a test stand-in.
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
    if (driver !== "" && driver !== "neon-http") throw new Error(WORKERS_DRIVER_UNSUPPORTED);
    // One client for the isolate: it holds no connection, each statement is a fetch of its own.
    const client = createNeonHttpClient(url, endpoint ? { endpoint } : {});
    return () => neonHttpDatabase(client);
  }
  if (DB) {
    // Written out here, as an if/else on the value itself, so that the build's `define` decides
    // it while parsing: a build for Neon only reads `if ("neon-http" === "neon-http") … else …`,
    // the else branch is dropped before tree shaking, and with it d1Database and SQLite's drizzle.
    if (process.env.WORKER_DATABASE === "neon-http") {
      throw new Error(
        "invalid configuration: this Worker build carries Postgres over HTTP only (wrangler.toml define " +
          "process.env.WORKER_DATABASE): set DATABASE_URL",
      );
    } else {
      return () => d1Database(DB);
    }
  }
  throw new Error("no database: set DATABASE_URL or bind a D1 database as DB");
}

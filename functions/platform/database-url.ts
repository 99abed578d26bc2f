/**
 * Opens a Database from a URL on Node: the Node and Lambda entries, the scripts and the bench.
 * `postgres://`/`postgresql://` → plain TCP through node-postgres (`pg`: RDS, Cloud SQL, any
 * Postgres), or the Neon serverless driver (WebSocket) for Neon hosts; `libsql://`, `https://`,
 * `file:`, `:memory:` → libSQL. Workers use worker-database.ts (D1 or Neon only).
 */
import pg from "pg";
import type { Database } from "../../db/database";
import { pgDatabase } from "../../db/dialect-pg";
import {
  DEFAULT_POOL_MAX,
  isPostgresUrl,
  type OpenerOptions,
  POOL_CONNECT_TIMEOUT_MS,
  serverlessDatabaseOpener,
  silencePoolErrors,
} from "./serverless-database";

export { isPostgresUrl, POOL_CONNECT_TIMEOUT_MS };

export type PostgresDriver = "neon" | "pg";

/**
 * Neon's hosts (`ep-….neon.tech`, and `.neon.build`, Neon's own staging domain): only these
 * speak Neon's WebSocket protocol, so only these get the Neon driver unless DATABASE_DRIVER says
 * otherwise (e.g. `neon` for Neon behind a custom domain or a local Neon proxy).
 */
const NEON_HOST = /\.neon\.(tech|build)$/i;

/**
 * The driver for a postgres:// URL: DATABASE_DRIVER (`neon` or `pg`) when set, else `neon` for
 * a Neon host and `pg` for any other. The error never quotes the URL (it carries the password).
 */
export function postgresDriverFor(url: string, forced?: string): PostgresDriver {
  if (forced === "neon" || forced === "pg") return forced;
  if (forced === "neon-http")
    throw new Error("DATABASE_DRIVER=neon-http is for Workers; Node and Lambda take neon or pg");
  if (forced) throw new Error("DATABASE_DRIVER must be neon or pg");
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw new Error("DATABASE_URL is not a valid postgres:// URL");
  }
  return NEON_HOST.test(host) ? "neon" : "pg";
}

/** The driver databaseOpener picks for this URL (for the start-up log line). */
export function databaseDriverFor(url: string, forced?: string): Database["driver"] {
  return isPostgresUrl(url) ? postgresDriverFor(url, forced) : "libsql";
}

function newPgPool(url: string, max: number, connectTimeoutMs: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: connectTimeoutMs });
  silencePoolErrors<pg.PoolClient>(pool);
  return pool;
}

/**
 * Returns a function that opens the Database for one request: each request gets its own handle
 * (and so its own statement counter) over a shared pool; with `perRequest` (the scripts) a pool
 * of its own, ended when the handle is closed so the process can exit. `driver` is
 * DATABASE_DRIVER (see postgresDriverFor).
 */
export function databaseOpener(url: string, opts: OpenerOptions & { driver?: string }): () => Database {
  if (!isPostgresUrl(url) || postgresDriverFor(url, opts.driver) === "neon")
    return serverlessDatabaseOpener(url, opts);
  const timeout = opts.connectTimeoutMs ?? POOL_CONNECT_TIMEOUT_MS;
  if (opts.perRequest)
    return () => pgDatabase(newPgPool(url, opts.maxConnections ?? 1, timeout), { endOnClose: true });
  const pool = newPgPool(url, opts.maxConnections ?? DEFAULT_POOL_MAX, timeout);
  return () => pgDatabase(pool);
}

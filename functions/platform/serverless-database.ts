/**
 * Opens a Database from a URL with the drivers that need no TCP socket of their own:
 * `postgres://`/`postgresql://` → Neon serverless Pool (WebSocket), `libsql://`, `https://`,
 * `file:`, `:memory:` → libSQL. Node and Lambda reach it through database-url.ts, which adds plain
 * TCP Postgres (`pg`). The Worker does not use it: platform/worker-database.ts opens D1 or Neon
 * only, so neither `pg` nor @libsql/client ships in the Worker bundle.
 */
import { createClient } from "@libsql/client";
import { Pool, type PoolClient } from "@neondatabase/serverless";
import type { Database } from "../../db/database";
import { libsqlDatabase, neonDatabase } from "../../db/dialect";

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Longest a request waits for a pooled connection before it fails (503). Also a safety net: the
 * driver's bundled pg-pool forgets to hand freed slots to waiting requests when the clients it
 * drops were already disconnected (a network cut), and would leave those requests waiting forever.
 */
export const POOL_CONNECT_TIMEOUT_MS = 10_000;

/** Pool size when the caller names none (a long-lived pool; per-request pools get 1). */
export const DEFAULT_POOL_MAX = 10;

export interface OpenerOptions {
  perRequest: boolean;
  authToken?: string;
  maxConnections?: number;
  connectTimeoutMs?: number;
}

/**
 * Keeps a dropped connection from crashing the process (both drivers' pools are pg-pool's):
 * an idle client's connection dropping (database restart, pg_terminate_backend) is emitted on
 * the pool; a checked-out client's (killed mid-transaction) on the client itself, which the pool
 * listens to only while it is idle. Unheard, either would crash the process. The request holding
 * the client gets the error from its query (answered 503).
 */
export function silencePoolErrors<C extends { on(event: "error", listener: () => void): unknown }>(pool: {
  on(event: "error", listener: () => void): unknown;
  on(event: "connect", listener: (client: C) => void): unknown;
}): void {
  pool.on("error", () => {});
  pool.on("connect", (client: C) => client.on("error", () => {}));
}

function newNeonPool(url: string, max: number, connectTimeoutMs: number): Pool {
  const pool = new Pool({ connectionString: url, max, connectionTimeoutMillis: connectTimeoutMs });
  silencePoolErrors<PoolClient>(pool);
  return pool;
}

/**
 * Returns a function that opens the Database for one request. Each request gets its own handle
 * (and so its own statement counter) over a shared client, except with `perRequest`: on Workers
 * a Pool must not outlive its request (its WebSocket belongs to the request's I/O context), so
 * each request gets a new Pool, ended when the request's Database is closed.
 */
export function serverlessDatabaseOpener(url: string, opts: OpenerOptions): () => Database {
  if (isPostgresUrl(url)) {
    const timeout = opts.connectTimeoutMs ?? POOL_CONNECT_TIMEOUT_MS;
    if (opts.perRequest)
      return () => neonDatabase(newNeonPool(url, opts.maxConnections ?? 1, timeout), { endOnClose: true });
    const pool = newNeonPool(url, opts.maxConnections ?? DEFAULT_POOL_MAX, timeout);
    return () => neonDatabase(pool);
  }
  if (/^(libsql|https?|wss?):\/\//i.test(url) || url.startsWith("file:") || url === ":memory:") {
    const client = createClient({ url, ...(opts.authToken ? { authToken: opts.authToken } : {}) });
    return () => libsqlDatabase(client);
  }
  throw new Error("DATABASE_URL must be a postgres://, libsql://, https:// or file: URL");
}

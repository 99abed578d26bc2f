/**
 * Opens a Database from a URL: `postgres://`/`postgresql://` → Neon serverless Pool (WebSocket),
 * `libsql://`, `https://`, `file:`, `:memory:` → libSQL. Used by the Node and Lambda entries, and
 * by the Workers entry when DATABASE_URL is set (otherwise Workers use the D1 binding).
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

function newPool(url: string, max: number, connectTimeoutMs: number): Pool {
  const pool = new Pool({ connectionString: url, max, connectionTimeoutMillis: connectTimeoutMs });
  // An idle client's connection dropping (database restart, pg_terminate_backend) is emitted
  // on the pool; without a listener it would crash the process. Requests see their own errors.
  pool.on("error", () => {});
  // A checked-out client's connection dropping (killed mid-transaction) is emitted on the client
  // itself, and the pool listens only while a client is idle: unheard, it would crash the
  // process. The request holding the client gets the error from its query (answered 503).
  pool.on("connect", (client: PoolClient) => client.on("error", () => {}));
  return pool;
}

/**
 * Returns a function that opens the Database for one request. Each request gets its own handle
 * (and so its own statement counter) over a shared client, except with `perRequest`: on Workers
 * a Pool must not outlive its request (its WebSocket belongs to the request's I/O context), so
 * each request gets a new Pool, ended when the request's Database is closed.
 */
export function databaseOpener(
  url: string,
  opts: { perRequest: boolean; authToken?: string; maxConnections?: number; connectTimeoutMs?: number },
): () => Database {
  if (isPostgresUrl(url)) {
    const timeout = opts.connectTimeoutMs ?? POOL_CONNECT_TIMEOUT_MS;
    if (opts.perRequest)
      return () => neonDatabase(newPool(url, opts.maxConnections ?? 1, timeout), { endOnClose: true });
    const pool = newPool(url, opts.maxConnections ?? 10, timeout);
    return () => neonDatabase(pool);
  }
  if (/^(libsql|https?|wss?):\/\//i.test(url) || url.startsWith("file:") || url === ":memory:") {
    const client = createClient({ url, ...(opts.authToken ? { authToken: opts.authToken } : {}) });
    return () => libsqlDatabase(client);
  }
  throw new Error("DATABASE_URL must be a postgres://, libsql://, https:// or file: URL");
}

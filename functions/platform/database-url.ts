/**
 * Opens a Database from a URL: `postgres://`/`postgresql://` → Neon serverless Pool (WebSocket),
 * `libsql://`, `https://`, `file:`, `:memory:` → libSQL. Used by the Node and Lambda entries, and
 * by the Workers entry when DATABASE_URL is set (otherwise Workers use the D1 binding).
 */
import { createClient } from "@libsql/client";
import { Pool } from "@neondatabase/serverless";
import type { Database } from "../../db/database";
import { libsqlDatabase, neonDatabase } from "../../db/dialect";

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

function newPool(url: string, max: number): Pool {
  const pool = new Pool({ connectionString: url, max });
  // An idle client's connection dropping (database restart, pg_terminate_backend) is emitted
  // on the pool; without a listener it would crash the process. Requests see their own errors.
  pool.on("error", () => {});
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
  opts: { perRequest: boolean; authToken?: string; maxConnections?: number },
): () => Database {
  if (isPostgresUrl(url)) {
    if (opts.perRequest)
      return () => neonDatabase(newPool(url, opts.maxConnections ?? 1), { endOnClose: true });
    const pool = newPool(url, opts.maxConnections ?? 10);
    return () => neonDatabase(pool);
  }
  if (/^(libsql|https?|wss?):\/\//i.test(url) || url.startsWith("file:") || url === ":memory:") {
    const client = createClient({ url, ...(opts.authToken ? { authToken: opts.authToken } : {}) });
    return () => libsqlDatabase(client);
  }
  throw new Error("DATABASE_URL must be a postgres://, libsql://, https:// or file: URL");
}

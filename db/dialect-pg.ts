/**
 * Postgres over plain TCP through node-postgres (`pg`), for RDS, Cloud SQL or any Postgres the
 * Node and Lambda entries reach directly, with the Neon path's dialect code (postgresDatabase).
 * Node only, so a module of its own: Workers have no TCP sockets for `pg`, and dialect.ts is
 * loaded on Workers (importing `pg` there breaks workerd and would grow the Worker bundle).
 */
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import type { Pool } from "pg";
import { countingLogger, type Database } from "./database";
import { type PgNative, postgresDatabase } from "./dialect";
import * as pgSchema from "./schema.pg";

export function pgDatabase(pool: Pool, opts: { endOnClose?: boolean } = {}): Database {
  const stats = { statements: 0, roundTrips: 0 };
  const native = drizzlePg({ client: pool, schema: pgSchema, logger: countingLogger(stats) });
  return postgresDatabase("pg", native as PgNative, pool, stats, async () => {
    if (opts.endOnClose) await pool.end();
  });
}

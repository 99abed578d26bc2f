/**
 * Postgres through Neon's SQL-over-HTTP endpoint (`neon()` from @neondatabase/serverless, with
 * drizzle-orm/neon-http): what the Worker uses for a postgres:// DATABASE_URL unless told
 * otherwise (functions/platform/worker-database.ts). Every statement is one HTTP request and
 * `atomic()` is one `transaction([...])` request (drizzle's neon-http `batch`), its statements
 * sent with real parameters and run by Neon in one transaction: the same one round trip per
 * batch as the WebSocket Pool's multi-statement message (dialect.ts, pgBatch), without the
 * WebSocket and Postgres start-up a per-request Pool pays before its first query. No
 * interactive transactions (none is used: atomic writes are batches on every driver).
 */
import type { NeonQueryFunction } from "@neondatabase/serverless";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/neon-http";
import { countingLogger, type Database, type Db, type Query, type Schema } from "./database";
import * as pgSchema from "./schema.pg";

type Atomic = Database["atomic"];

export function neonHttpDatabase(client: NeonQueryFunction<false, false>): Database {
  const stats = { statements: 0, roundTrips: 0 };
  const native = drizzle({ client, schema: pgSchema, logger: countingLogger(stats) });
  const atomic = (async (build: (db: Db) => readonly [Query, ...Query[]]) => {
    const queries = build(native as unknown as Db);
    // drizzle's batch sends through the client directly, past its logger: counted here, as on
    // libSQL and D1 (dialect.ts): one HTTP request, however many statements.
    stats.statements += queries.length;
    stats.roundTrips++;
    return native.batch(queries as never);
  }) as unknown as Atomic;
  return {
    driver: "neon-http",
    dialect: "postgres",
    db: native as unknown as Db,
    t: pgSchema as unknown as Schema,
    stats,
    atomic,
    ping: async () => {
      await native.execute(sql`select 1`);
    },
    // Nothing to release: each statement is a fetch of its own.
    close: async () => {},
  };
}

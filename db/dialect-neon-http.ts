/**
 * Postgres over Neon's SQL-over-HTTP endpoint (db/neon-http.ts), through drizzle's pg-proxy
 * driver: what the Worker uses for a postgres:// DATABASE_URL (functions/platform/
 * worker-database.ts). Every statement is one HTTP request, and `atomic()` is ONE request whose
 * statements Neon runs in one transaction, with real parameters: the same one round trip per
 * batch as the Pool's multi-statement message (dialect.ts, pgBatch), without the WebSocket and
 * Postgres start-up a per-request Pool pays before its first query, and without
 * @neondatabase/serverless in the Worker bundle (db/neon-http.ts says why). No interactive
 * transactions (none is used: atomic writes are batches on every driver).
 */
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pg-proxy";
import { collectingBatch, countingLogger, type Database, type Db, type Schema } from "./database";
import type { NeonHttpClient, SqlResult } from "./neon-http";
import * as pgSchema from "./schema.pg";

/** How drizzle's pg-proxy wants a statement's answer: "all" as row arrays (drizzle maps them), "execute" as objects. */
type Method = "all" | "execute";

function answer(result: SqlResult, method: Method): { rows: unknown[] } {
  if (method === "all") return { rows: result.rows };
  return { rows: result.rows.map((row) => Object.fromEntries(result.fields.map((f, i) => [f, row[i]]))) };
}

/** A statement of a batch, held until the batch is sent. */
interface Pending {
  sql: string;
  params: unknown[];
  method: Method;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export function neonHttpDatabase(client: NeonHttpClient): Database {
  const stats = { statements: 0, roundTrips: 0 };
  const native = drizzle(
    async (text, params, method) => answer(await client.query({ sql: text, params }), method as Method),
    { schema: pgSchema, logger: countingLogger(stats) },
  );

  // As pgBatch (dialect.ts): the statements go out together, here as one transaction request.
  const atomic = collectingBatch<Pending>(
    stats,
    (collect) =>
      drizzle(
        (text, params, method) =>
          new Promise<{ rows: unknown[] }>((resolve, reject) =>
            collect({ sql: text, params, method: method as Method, resolve, reject }),
          ),
        { schema: pgSchema, logger: countingLogger(stats, { roundTrips: false }) },
      ) as unknown as Db,
    async (pending) => {
      const results = await client.transaction(pending.map((p) => ({ sql: p.sql, params: p.params })));
      return pending.map((p, i) => answer(results[i] as SqlResult, p.method));
    },
  );

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

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
import { countingLogger, type Database, type Db, type Query, type Schema } from "./database";
import type { NeonHttpClient, SqlResult } from "./neon-http";
import * as pgSchema from "./schema.pg";

type Atomic = Database["atomic"];
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
  resolve(value: { rows: unknown[] }): void;
  reject(error: unknown): void;
}

export function neonHttpDatabase(client: NeonHttpClient): Database {
  const stats = { statements: 0, roundTrips: 0 };
  const native = drizzle(
    async (text, params, method) => answer(await client.query({ sql: text, params }), method as Method),
    { schema: pgSchema, logger: countingLogger(stats) },
  );

  // As pgBatch: the batch's statements are built by drizzle against a collector that takes each
  // statement without sending it, within one synchronous stretch (so concurrent batches of one
  // handle never mix); then they go out as one transaction request and the answers are handed
  // back to drizzle, which maps them as usual.
  let collecting: Pending[] | null = null;
  const batchDb = drizzle(
    (text, params, method) =>
      new Promise<{ rows: unknown[] }>((resolve, reject) => {
        if (!collecting) throw new Error("a batch statement was sent outside its batch");
        collecting.push({ sql: text, params, method: method as Method, resolve, reject });
      }),
    { schema: pgSchema, logger: countingLogger(stats, { roundTrips: false }) },
  ) as unknown as Db;

  const atomic = (async (build: (db: Db) => readonly [Query, ...Query[]]) => {
    const pending: Pending[] = [];
    collecting = pending;
    let answers: PromiseLike<unknown>[];
    try {
      // Calling `then` makes drizzle prepare the statement and hand it to the collector, at once.
      answers = build(batchDb).map((q) => (q as unknown as PromiseLike<unknown>).then((r) => r));
    } finally {
      collecting = null;
    }
    if (pending.length !== answers.length) throw new Error("a batch statement did not reach the driver");
    stats.roundTrips++;
    try {
      const results = await client.transaction(pending.map((p) => ({ sql: p.sql, params: p.params })));
      pending.forEach((p, i) => {
        p.resolve(answer(results[i] as SqlResult, p.method));
      });
    } catch (error) {
      for (const p of pending) p.reject(error);
    }
    return Promise.all(answers);
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

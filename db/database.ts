/**
 * The database handle every query function takes. Query functions are written once against
 * the Drizzle builder API that Postgres and SQLite share (select/insert/update/delete,
 * `onConflictDoUpdate`, `returning`); they are typed against the SQLite flavour and receive the
 * Postgres one at run time, which has the same builder surface. Rules that keep that honest:
 * always `await` a query (never `.get()`/`.all()`/`.run()`), count affected rows with
 * `.returning()`, and group writes that must land together with `atomic()`.
 */
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import type { Logger } from "drizzle-orm/logger";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type * as sqliteSchema from "./schema.sqlite";

export type Schema = typeof sqliteSchema;
/** The common builder API (see the header). */
// biome-ignore lint/suspicious/noExplicitAny: run results differ per driver; queries use `.returning()` instead.
export type Db = BaseSQLiteDatabase<"async", any, Schema>;
/** "neon": the Neon serverless Pool (WebSocket); "neon-http": Neon's SQL-over-HTTP endpoint (db/dialect-neon-http.ts). */
export type Driver = "neon" | "neon-http" | "pg" | "libsql" | "d1";
export type Query = BatchItem<"sqlite">;

export interface Database {
  readonly driver: Driver;
  readonly dialect: "postgres" | "sqlite";
  readonly db: Db;
  /** The tables of this handle's dialect, under the common type. */
  readonly t: Schema;
  /**
   * Since the handle was made: application SQL statements sent (transaction control excluded),
   * and network round trips to the database (a statement awaited on its own is one; an
   * `atomic()` batch is one on every driver: see `atomic`).
   */
  readonly stats: DatabaseStats;
  /**
   * Runs the statements all-or-nothing, in order: one batch on libSQL and D1 (D1 has no
   * interactive transactions), a transaction on Postgres (over HTTP: one `transaction([...])`). Build every statement on the `db`
   * passed to `build` (on Postgres it is the transaction; a statement built on another handle
   * would run outside it). Later statements cannot depend on earlier results, so express
   * dependencies in SQL (`WHERE EXISTS …`); precompute async values before calling.
   * One round trip: libSQL and D1 send the batch as one request; on Postgres the statements go
   * out as ONE multi-statement message, which Postgres runs as one implicit transaction.
   */
  atomic<T extends readonly [Query, ...Query[]]>(build: (db: Db) => T): Promise<BatchResponse<T>>;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  /** Releases per-request resources (a Neon pool on Workers); a no-op for long-lived handles. */
  close(): Promise<void>;
}

export interface DatabaseStats {
  statements: number;
  roundTrips: number;
}

/**
 * A drizzle logger that counts statements instead of printing them (nothing is ever logged).
 * Each statement drizzle sends on its own is awaited before the next, so it is also a round
 * trip, unless `roundTrips` is false (the statements of a batch, which is counted as one).
 */
export function countingLogger(
  stats: DatabaseStats,
  opts: { roundTrips: boolean } = { roundTrips: true },
): Logger {
  return {
    logQuery(query: string) {
      if (opts.roundTrips) stats.roundTrips++;
      if (!/^\s*(begin|commit|rollback|savepoint|release)\b/i.test(query)) stats.statements++;
    },
  };
}

/** A statement held by a batch collector until the batch is sent, with how to answer it. */
export interface CollectedStatement {
  resolve(answer: unknown): void;
  reject(error: unknown): void;
}

/**
 * `atomic()` in ONE round trip for a driver that can send several statements at once (Postgres:
 * dialect.ts's multi-statement message, dialect-neon-http.ts's transaction request). The batch's
 * statements are built by drizzle on a handle (`makeDb`) whose client takes each statement
 * without sending it (`collect`); `send` then sends them together and returns each one's
 * answer, in order, which is handed back to drizzle to map as usual. Collecting happens within
 * one synchronous stretch, so one handle serves every batch, even batches started concurrently.
 */
export function collectingBatch<S extends CollectedStatement>(
  stats: DatabaseStats,
  makeDb: (collect: (statement: S) => void) => Db,
  send: (statements: S[]) => Promise<readonly unknown[]>,
): Database["atomic"] {
  let collecting: S[] | null = null;
  const batchDb = makeDb((statement) => {
    if (!collecting) throw new Error("a batch statement was sent outside its batch");
    collecting.push(statement);
  });
  return (async (build: (db: Db) => readonly [Query, ...Query[]]) => {
    const pending: S[] = [];
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
      const results = await send(pending);
      pending.forEach((statement, i) => {
        statement.resolve(results[i]);
      });
    } catch (error) {
      for (const statement of pending) statement.reject(error);
    }
    return Promise.all(answers);
  }) as unknown as Database["atomic"];
}

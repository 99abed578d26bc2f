/**
 * The one module that knows the drivers apart. Everything dialect- or driver-specific
 * (how to run statements atomically, how to ping) lives here; query functions never branch.
 */

import type { Client as LibsqlClient } from "@libsql/client";
import type { Pool } from "@neondatabase/serverless";
import { sql } from "drizzle-orm";
import { drizzle as drizzleD1 } from "drizzle-orm/d1";
import { drizzle as drizzleLibsql } from "drizzle-orm/libsql";
import { drizzle as drizzleNeon } from "drizzle-orm/neon-serverless";
import {
  collectingBatch,
  countingLogger,
  type Database,
  type DatabaseStats,
  type Db,
  type Query,
  type Schema,
} from "./database";
import * as pgSchema from "./schema.pg";
import * as sqliteSchema from "./schema.sqlite";

type Atomic = Database["atomic"];

/** The drizzle Postgres database surface both drivers share (what postgresDatabase uses). */
export interface PgNative {
  execute(query: ReturnType<typeof sql>): Promise<unknown>;
}

/** What both drivers' pools offer: node-postgres's `query`, through which a batch is sent. */
export interface PgPool {
  query(config: unknown): Promise<unknown>;
}

/**
 * One Database over either Postgres driver: the same atomic (one batch, one round trip: see
 * pgBatch), ping and statement counting, so a request's statements, round trips and results do
 * not depend on the driver. (`pg` itself is wrapped in dialect-pg.ts: this module is loaded on
 * Workers too.)
 */
export function postgresDatabase(
  driver: "neon" | "pg",
  native: PgNative,
  pool: PgPool,
  stats: DatabaseStats,
  close: () => Promise<void>,
): Database {
  return {
    driver,
    dialect: "postgres",
    db: native as unknown as Db,
    t: pgSchema as unknown as Schema,
    stats,
    atomic: pgBatch(pool, stats),
    ping: async () => {
      await native.execute(sql`select 1`);
    },
    close,
  };
}

/** Postgres through the Neon serverless driver (WebSocket Pool: supports transactions). */
export function neonDatabase(pool: Pool, opts: { endOnClose?: boolean } = {}): Database {
  const stats = { statements: 0, roundTrips: 0 };
  const native = drizzleNeon({ client: pool, schema: pgSchema, logger: countingLogger(stats) });
  return postgresDatabase("neon", native as PgNative, pool, stats, async () => {
    if (opts.endOnClose) await pool.end();
  });
}

/** What drizzle hands its client for one statement (node-postgres query config and parameters). */
interface PendingStatement {
  config: { text: string; rowMode?: "array"; types?: unknown };
  params: unknown[];
  resolve(result: unknown): void;
  reject(error: unknown): void;
}

/** The answer of one statement as node-postgres gives it. */
interface PgResult {
  rows: unknown[][];
  fields: { name: string }[];
  rowCount: number | null;
  command: string;
}

/**
 * `atomic()` on Postgres in ONE round trip. Over the Pool every statement awaits its answer, so
 * an interactive transaction costs BEGIN + N + COMMIT round trips. Instead the batch's
 * statements are built by drizzle against a collector that takes each query (text, parameters,
 * result options) without sending it; the texts, with their parameters written in as literals,
 * go out as one simple-protocol message, which Postgres runs as ONE implicit transaction (all
 * or nothing, statements in order, each seeing the ones before it and taking its row locks to
 * the end). The answers are handed back to drizzle, which maps them as usual. A single
 * statement goes the same way (one message, one round trip).
 *
 * Literals mirror how node-postgres sends parameters: as text of unknown type, which Postgres
 * types from context exactly as it types a parameter. (A driver that speaks the extended
 * protocol with pipelining, or Neon's HTTP `transaction([...])`, would send the same batch as
 * one message with real parameters.)
 */
function pgBatch(pool: PgPool, stats: DatabaseStats): Atomic {
  const makeDb = (collect: (statement: PendingStatement) => void) =>
    drizzleNeon({
      client: {
        query: (config: PendingStatement["config"], params?: unknown[]) =>
          new Promise((resolve, reject) => collect({ config, params: params ?? [], resolve, reject })),
      } as unknown as Pool,
      schema: pgSchema,
      logger: countingLogger(stats, { roundTrips: false }),
    }) as unknown as Db;
  return collectingBatch<PendingStatement>(stats, makeDb, async (pending) => {
    const sent = await pool.query({
      text: pending.map((p) => withLiterals(p.config.text, p.params)).join(";\n"),
      rowMode: "array",
      types: pending[0]?.config.types,
    } as never);
    const results = (Array.isArray(sent) ? sent : [sent]) as PgResult[];
    return pending.map((p, i) => {
      const r = results[i]!;
      return p.config.rowMode === "array" ? r : { ...r, rows: r.rows.map((row) => asObject(r, row)) };
    });
  });
}

function asObject(result: PgResult, row: unknown[]): Record<string, unknown> {
  return Object.fromEntries(result.fields.map((f, i) => [f.name, row[i]]));
}

/** `$n` placeholders replaced by untyped literals (E'…', so backslashes mean the same on any server setting). */
function withLiterals(text: string, params: readonly unknown[]): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const index = Number(n) - 1;
    if (index >= params.length) throw new Error(`batch statement refers to missing parameter $${n}`);
    return pgLiteral(params[index]);
  });
}

/** One parameter as node-postgres would send it (its text form), quoted; NULL for null. */
function pgLiteral(value: unknown): string {
  if (value === null || value === undefined) return "null";
  const text = pgText(value);
  // A NUL would end the statement text early on the server: refuse, never truncate.
  if (text.includes("\0")) throw new Error("a batch parameter holds a NUL character");
  return `E'${text.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}

/** node-postgres's text form of a parameter (its `prepareValue`) for the types the app sends. */
function pgText(value: unknown): string {
  if (value instanceof Uint8Array) throw new Error("binary parameters are not supported in a batch");
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    const element = (v: unknown): string =>
      v === null || v === undefined
        ? "NULL"
        : Array.isArray(v)
          ? pgText(v)
          : `"${pgText(v).replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
    return `{${value.map(element).join(",")}}`;
  }
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function sqliteDatabase(
  driver: "libsql" | "d1",
  native: { batch(q: readonly [Query, ...Query[]]): Promise<unknown> } & Db,
  stats: DatabaseStats,
  close: () => Promise<void>,
): Database {
  const atomic = (async (build: (db: Db) => readonly [Query, ...Query[]]) => {
    const queries = build(native);
    // Batches bypass drizzle's logger, so count them here: one request, however many statements.
    stats.statements += queries.length;
    stats.roundTrips++;
    return native.batch(queries);
  }) as unknown as Atomic;
  return {
    driver,
    dialect: "sqlite",
    db: native,
    t: sqliteSchema,
    stats,
    atomic,
    ping: async () => {
      await native.run(sql`select 1`);
    },
    close,
  };
}

/** libSQL: `file:`/`:memory:` in Node, `libsql://` over HTTP on the edge. `batch` runs in a transaction. */
export function libsqlDatabase(client: LibsqlClient): Database {
  const stats = { statements: 0, roundTrips: 0 };
  const native = drizzleLibsql({ client, schema: sqliteSchema, logger: countingLogger(stats) });
  return sqliteDatabase("libsql", native as never, stats, async () => {});
}

/** Cloudflare D1 binding. `batch` is atomic (one implicit transaction). */
export function d1Database(binding: D1Database): Database {
  const stats = { statements: 0, roundTrips: 0 };
  const native = drizzleD1(binding, { schema: sqliteSchema, logger: countingLogger(stats) });
  return sqliteDatabase("d1", native as never, stats, async () => {});
}

export { isUniqueViolation } from "./unique-violation";

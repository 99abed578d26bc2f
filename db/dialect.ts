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
import { countingLogger, type Database, type Db, type Query, type Schema } from "./database";
import * as pgSchema from "./schema.pg";
import * as sqliteSchema from "./schema.sqlite";

type Atomic = Database["atomic"];

/** The drizzle Postgres database surface both drivers share (what postgresDatabase uses). */
export interface PgNative {
  transaction<T>(run: (tx: unknown) => Promise<T>): Promise<T>;
  execute(query: ReturnType<typeof sql>): Promise<unknown>;
}

/**
 * One Database over either Postgres driver: the same atomic (one transaction), ping and
 * statement counting, so a request's statements and results do not depend on the driver.
 * (`pg` itself is wrapped in dialect-pg.ts: this module is loaded on Workers too.)
 */
export function postgresDatabase(
  driver: "neon" | "pg",
  native: PgNative,
  stats: { statements: number },
  close: () => Promise<void>,
): Database {
  const atomic = (async (build: (db: Db) => readonly Query[]) =>
    native.transaction(async (tx) => {
      const results: unknown[] = [];
      // Sequential on purpose: one connection, statements in the order given.
      for (const q of build(tx as Db)) results.push(await q);
      return results;
    })) as Atomic;
  return {
    driver,
    dialect: "postgres",
    db: native as unknown as Db,
    t: pgSchema as unknown as Schema,
    stats,
    atomic,
    ping: async () => {
      await native.execute(sql`select 1`);
    },
    close,
  };
}

/** Postgres through the Neon serverless driver (WebSocket Pool: supports transactions). */
export function neonDatabase(pool: Pool, opts: { endOnClose?: boolean } = {}): Database {
  const stats = { statements: 0 };
  const native = drizzleNeon({ client: pool, schema: pgSchema, logger: countingLogger(stats) });
  return postgresDatabase("neon", native as PgNative, stats, async () => {
    if (opts.endOnClose) await pool.end();
  });
}

function sqliteDatabase(
  driver: "libsql" | "d1",
  native: { batch(q: readonly [Query, ...Query[]]): Promise<unknown> } & Db,
  stats: { statements: number },
  close: () => Promise<void>,
): Database {
  const atomic = (async (build: (db: Db) => readonly [Query, ...Query[]]) => {
    const queries = build(native);
    // Batches bypass drizzle's logger, so count them here.
    stats.statements += queries.length;
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
  const stats = { statements: 0 };
  const native = drizzleLibsql({ client, schema: sqliteSchema, logger: countingLogger(stats) });
  return sqliteDatabase("libsql", native as never, stats, async () => {});
}

/** Cloudflare D1 binding. `batch` is atomic (one implicit transaction). */
export function d1Database(binding: D1Database): Database {
  const stats = { statements: 0 };
  const native = drizzleD1(binding, { schema: sqliteSchema, logger: countingLogger(stats) });
  return sqliteDatabase("d1", native as never, stats, async () => {});
}

/**
 * True when `err` (or a cause of it) is a unique-constraint violation: SQLSTATE 23505 on
 * Postgres, SQLITE_CONSTRAINT_UNIQUE / "UNIQUE constraint failed" on libSQL and D1. Drizzle
 * wraps driver errors, so the causes are walked.
 */
export function isUniqueViolation(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE") return true;
    if (typeof message === "string" && /UNIQUE constraint failed/.test(message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

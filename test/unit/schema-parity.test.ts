/**
 * The two dialect schemas must describe the same tables: same columns (name, TypeScript kind,
 * nullability, default, primary key), same indexes and unique constraints, same foreign keys,
 * same CHECK constraints. Both are built from db/tables.ts, so this guards the column kits.
 */
import { type Column, getTableColumns, getTableName, is, SQL, sql, type Table } from "drizzle-orm";
import {
  PgDialect,
  type PgTable,
  check as pgCheck,
  getTableConfig as pgConfig,
  integer as pgInteger,
  pgTable,
} from "drizzle-orm/pg-core";
import {
  SQLiteSyncDialect,
  type SQLiteTable,
  check as sqliteCheck,
  getTableConfig as sqliteConfig,
  integer as sqliteInteger,
  sqliteTable,
} from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import * as pg from "../../db/schema.pg";
import * as sqlite from "../../db/schema.sqlite";

/** The TypeScript-level kind a column maps to, which is what query code relies on. */
function kind(column: { dataType: string; columnType: string }): string {
  if (column.columnType === "PgUUID") return "string";
  if (column.columnType === "PgDateString") return "string";
  return column.dataType;
}

/** Renders SQL in a dialect. */
type Render = (sql: SQL) => { sql: string; params: unknown[] };
const renderPg: Render = (sql) => new PgDialect().sqlToQuery(sql);
const renderSqlite: Render = (sql) => new SQLiteSyncDialect().sqlToQuery(sql);

/**
 * Dialect-neutral SQL text: Postgres casts (`x::text`) dropped, placeholders (`$1` / `?`) made
 * alike. Identifiers are double-quoted by both dialects already.
 */
function neutralSql(sql: SQL, render: Render): { sql: string; params: unknown[] } {
  const q = render(sql);
  return {
    sql: q.sql
      .replace(/::[a-z_]+(\[\])?/gi, "")
      .replace(/\$\d+/g, "?")
      .replace(/\s+/g, " ")
      .trim(),
    params: q.params,
  };
}

/** A column default as both dialects must agree on it: the value, or the neutral SQL. */
function defaultOf(value: unknown, render: Render): unknown {
  if (value === undefined) return { none: true };
  return is(value, SQL) ? { sql: neutralSql(value, render) } : { value };
}

function describeTable(
  table: Table,
  config: { indexes: unknown[]; foreignKeys: unknown[]; primaryKeys: unknown[]; checks: unknown[] },
  render: Render,
) {
  const columns = Object.entries(getTableColumns(table)).map(([key, c]) => ({
    key,
    name: c.name,
    kind: kind(c),
    notNull: c.notNull,
    primary: c.primary,
    hasDefault: c.hasDefault,
    default: defaultOf(c.default, render),
    runtimeDefault: c.defaultFn !== undefined,
    runtimeOnUpdate: c.onUpdateFn !== undefined,
    unique: c.isUnique,
    enumValues: c.enumValues ?? null,
  }));
  const indexes = (
    config.indexes as { config: { name: string; unique: boolean; columns: { name: string }[] } }[]
  )
    .map((i) => ({
      name: i.config.name,
      unique: i.config.unique,
      columns: i.config.columns.map((c) => c.name),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const foreignKeys = (
    config.foreignKeys as {
      onDelete?: string;
      onUpdate?: string;
      reference(): { columns: { name: string }[]; foreignTable: Table; foreignColumns: { name: string }[] };
    }[]
  )
    .map((fk) => {
      const ref = fk.reference();
      return {
        columns: ref.columns.map((c) => c.name),
        table: getTableName(ref.foreignTable),
        foreignColumns: ref.foreignColumns.map((c) => c.name),
        // Unset means the SQL default on both dialects.
        onDelete: fk.onDelete ?? "no action",
        onUpdate: fk.onUpdate ?? "no action",
      };
    })
    .sort((a, b) => a.columns.join().localeCompare(b.columns.join()));
  const primaryKeys = (config.primaryKeys as { columns: { name: string }[] }[]).map((pk) =>
    pk.columns.map((c) => c.name),
  );
  const checks = (config.checks as { name: string; value: SQL }[])
    .map((c) => ({ name: c.name, expression: neutralSql(c.value, render) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { name: getTableName(table), columns, indexes, foreignKeys, primaryKeys, checks };
}

const tables = (schema: Record<string, unknown>) => Object.keys(schema).sort();
const describePg = (t: PgTable) => describeTable(t, pgConfig(t), renderPg);
const describeSqlite = (t: SQLiteTable) => describeTable(t, sqliteConfig(t), renderSqlite);

describe("schema parity", () => {
  it("defines the same tables in both dialects", () => {
    expect(tables(pg)).toEqual(tables(sqlite));
    expect(tables(pg).length).toBeGreaterThanOrEqual(15);
  });

  for (const key of tables(pg)) {
    it(`${key}: same columns, keys and indexes`, () => {
      const p = (pg as Record<string, PgTable>)[key]!;
      const s = (sqlite as Record<string, SQLiteTable>)[key]!;
      expect(describeSqlite(s)).toEqual(describePg(p));
    });
  }

  it("keeps a scope CHECK on every table with a scope_id", () => {
    const scoped = Object.values(pg as Record<string, PgTable>).filter((t) =>
      Object.values(getTableColumns(t)).some((c) => c.name === "scope_id"),
    );
    expect(scoped.length).toBeGreaterThanOrEqual(3);
    for (const t of scoped) {
      expect(describePg(t).checks).toContainEqual({
        name: `${getTableName(t)}_scope_check`,
        expression: {
          sql: `"${getTableName(t)}"."scope_id" = coalesce("${getTableName(t)}"."tenant_id", '')`,
          params: [],
        },
      });
    }
  });
});

describe("the parity comparison", () => {
  interface Variant {
    checkName?: string;
    rule?: (a: Column) => SQL;
    fallback?: number | SQL;
  }
  const base = {
    checkName: "fixture_check",
    rule: (a: Column) => sql`coalesce(${a}, '') <> ''`,
    fallback: 0,
  };
  /** One-column tables, Postgres and SQLite, that differ from each other only as told. */
  const compare = (pgVariant: Variant, sqliteVariant: Variant) => {
    const p = { ...base, ...pgVariant };
    const s = { ...base, ...sqliteVariant };
    const sqliteSide = describeSqlite(
      sqliteTable("fixture", { a: sqliteInteger("a").notNull().default(s.fallback) }, (t) => [
        sqliteCheck(s.checkName, s.rule(t.a)),
      ]),
    );
    const pgSide = describePg(
      pgTable("fixture", { a: pgInteger("a").notNull().default(p.fallback) }, (t) => [
        pgCheck(p.checkName, p.rule(t.a)),
      ]),
    );
    return {
      same: () => expect(sqliteSide).toEqual(pgSide),
      differs: () => expect(sqliteSide).not.toEqual(pgSide),
    };
  };

  it("reads a CHECK that differs only by a ::text cast as the same", () => {
    compare({ rule: (a) => sql`coalesce(${a}::text, '') <> ''` }, {}).same();
  });

  it("tells a different CHECK expression or name apart", () => {
    compare({}, { rule: (a) => sql`${a} > 0` }).differs();
    compare({}, { checkName: "other_check" }).differs();
  });

  it("tells a different default value or default SQL apart", () => {
    compare({ fallback: sql`(1)` }, { fallback: sql`(1)` }).same();
    compare({}, { fallback: 1 }).differs();
    compare({}, { fallback: sql`(0)` }).differs();
    compare({ fallback: sql`(1)` }, { fallback: sql`(2)` }).differs();
  });
});

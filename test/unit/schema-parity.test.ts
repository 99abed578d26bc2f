/**
 * The two dialect schemas must describe the same tables: same columns (name, TypeScript kind,
 * nullability, default, primary key), same indexes and unique constraints, same foreign keys.
 */
import { getTableColumns, getTableName, type Table } from "drizzle-orm";
import { type PgTable, getTableConfig as pgConfig } from "drizzle-orm/pg-core";
import { type SQLiteTable, getTableConfig as sqliteConfig } from "drizzle-orm/sqlite-core";
import { describe, expect, it } from "vitest";
import * as pg from "../../db/schema.pg";
import * as sqlite from "../../db/schema.sqlite";

/** The TypeScript-level kind a column maps to, which is what query code relies on. */
function kind(column: { dataType: string; columnType: string }): string {
  if (column.columnType === "PgUUID") return "string";
  if (column.columnType === "PgDateString") return "string";
  return column.dataType;
}

function describeTable(
  table: Table,
  config: { indexes: unknown[]; foreignKeys: unknown[]; primaryKeys: unknown[] },
) {
  const columns = Object.entries(getTableColumns(table)).map(([key, c]) => ({
    key,
    name: c.name,
    kind: kind(c),
    notNull: c.notNull,
    primary: c.primary,
    hasDefault: c.hasDefault,
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
    config.foreignKeys as { reference(): { columns: { name: string }[]; foreignTable: Table } }[]
  )
    .map((fk) => {
      const ref = fk.reference();
      return { columns: ref.columns.map((c) => c.name), table: getTableName(ref.foreignTable) };
    })
    .sort((a, b) => a.columns.join().localeCompare(b.columns.join()));
  const primaryKeys = (config.primaryKeys as { columns: { name: string }[] }[]).map((pk) =>
    pk.columns.map((c) => c.name),
  );
  return { name: getTableName(table), columns, indexes, foreignKeys, primaryKeys };
}

const tables = (schema: Record<string, unknown>) => Object.keys(schema).sort();

describe("schema parity", () => {
  it("defines the same tables in both dialects", () => {
    expect(tables(pg)).toEqual(tables(sqlite));
    expect(tables(pg).length).toBeGreaterThanOrEqual(15);
  });

  for (const key of tables(pg)) {
    it(`${key}: same columns, keys and indexes`, () => {
      const p = (pg as Record<string, PgTable>)[key]!;
      const s = (sqlite as Record<string, SQLiteTable>)[key]!;
      expect(describeTable(s, sqliteConfig(s))).toEqual(describeTable(p, pgConfig(p)));
    });
  }
});

/**
 * The SQLite column kit (see db/kit.ts): uuids and dates are text, times are epoch milliseconds,
 * JSON is text, booleans and bigints are integers.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { makeKit } from "./kit";

// Pure: see the schema module (a single-dialect bundle drops the other kit).
export const sqliteKit = /* @__PURE__ */ makeKit({
  dialect: "sqlite",
  table: sqliteTable,
  uuid: (name) => text(name),
  text: (name, config) => text(name, config),
  time: (name) => integer(name, { mode: "timestamp_ms" }),
  json: (name) => text(name, { mode: "json" }),
  bool: (name) => integer(name, { mode: "boolean" }),
  int: (name) => integer(name),
  bigint: (name) => integer(name),
  date: (name) => text(name),
  asText: (value) => sql`${value}`,
  check,
  index,
  uniqueIndex,
  primaryKey,
});

/** The Postgres column kit (see db/kit.ts): uuid, timestamptz, jsonb, boolean, bigint, date. */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { makeKit } from "./kit";

// Pure: see the schema module (a single-dialect bundle drops the other kit).
export const pgKit = /* @__PURE__ */ makeKit({
  dialect: "pg",
  table: pgTable,
  uuid: (name) => uuid(name),
  text: (name, config) => text(name, config),
  time: (name) => timestamp(name, { withTimezone: true, mode: "date" }),
  json: (name) => jsonb(name),
  bool: (name) => boolean(name),
  int: (name) => integer(name),
  bigint: (name) => bigint(name, { mode: "number" }),
  date: (name) => date(name, { mode: "string" }),
  asText: (value) => sql`${value}::text`,
  check,
  index,
  uniqueIndex,
  primaryKey,
});

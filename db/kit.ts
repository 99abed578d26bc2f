/**
 * The column kit that db/tables.ts writes every table with, once for both dialects. A kit is
 * made per dialect (db/columns.pg.ts, db/columns.sqlite.ts) from that dialect's drizzle
 * primitives; everything shared (ids, foreign keys, the tenant scope) is built here on top.
 *
 * Typing: at run time a kit column is the dialect's real drizzle builder. Its static type,
 * `Col`, carries the drizzle builder type of *both* dialects (computed with drizzle's own
 * `NotNull`/`HasDefault`/`IsPrimaryKey`, exactly as the builder methods would), so it does not
 * depend on the dialect and chains in generic code. Only `table` depends on the dialect: it
 * returns `Table<D, …>`, which resolves to the same `PgTableWithColumns`/`SQLiteTableWithColumns`
 * type `pgTable`/`sqliteTable` would return once `defineTables` is called with a concrete kit.
 */
import {
  type BuildColumns,
  type Column,
  type HasDefault,
  type IsPrimaryKey,
  type NotNull,
  type SQL,
  sql,
  type Writable,
} from "drizzle-orm";
import type {
  PgBigInt53BuilderInitial,
  PgBooleanBuilderInitial,
  PgColumnBuilderBase,
  PgDateStringBuilderInitial,
  PgIntegerBuilderInitial,
  PgJsonbBuilderInitial,
  PgTableWithColumns,
  PgTextBuilderInitial,
  PgTimestampBuilderInitial,
  PgUUIDBuilderInitial,
  UpdateDeleteAction,
} from "drizzle-orm/pg-core";
import type {
  SQLiteBooleanBuilderInitial,
  SQLiteColumnBuilderBase,
  SQLiteIntegerBuilderInitial,
  SQLiteTableWithColumns,
  SQLiteTextBuilderInitial,
  SQLiteTextJsonBuilderInitial,
  SQLiteTimestampBuilderInitial,
} from "drizzle-orm/sqlite-core";

export type Dialect = "pg" | "sqlite";

/** The drizzle column builder a kit column stands for, in each dialect. */
export interface Builders {
  pg: PgColumnBuilderBase;
  sqlite: SQLiteColumnBuilderBase;
}

declare const builders: unique symbol;
declare const constraint: unique symbol;

/** A column of either dialect: the subset of the drizzle builder API the tables use. */
export interface Col<B extends Builders> {
  /** Type only (never set at run time): the drizzle builder type per dialect. */
  readonly [builders]: B;
  notNull(): Col<{ pg: NotNull<B["pg"]>; sqlite: NotNull<B["sqlite"]> }>;
  default(
    value: (B["pg"]["_"]["data"] & B["sqlite"]["_"]["data"]) | SQL,
  ): Col<{ pg: HasDefault<B["pg"]>; sqlite: HasDefault<B["sqlite"]> }>;
  /** For non-serial columns only (as in drizzle, a primary key is implicitly NOT NULL). */
  primaryKey(): Col<{ pg: IsPrimaryKey<NotNull<B["pg"]>>; sqlite: IsPrimaryKey<NotNull<B["sqlite"]>> }>;
  unique(): Col<B>;
  references(target: () => Column, actions?: ReferenceActions): Col<B>;
}
export type AnyCol = Col<Builders>;
type Pair<P extends PgColumnBuilderBase, S extends SQLiteColumnBuilderBase> = Col<{ pg: P; sqlite: S }>;
type SQLiteText<
  N extends string,
  E extends [string, ...string[]] = [string, ...string[]],
> = SQLiteTextBuilderInitial<N, E, number | undefined>;
type TextBuilders<N extends string, E extends [string, ...string[]] = [string, ...string[]]> = {
  pg: PgTextBuilderInitial<N, E>;
  sqlite: SQLiteText<N, E>;
};
type Uuid<N extends string> = Pair<PgUUIDBuilderInitial<N>, SQLiteText<N>>;
type Time<N extends string> = Pair<PgTimestampBuilderInitial<N>, SQLiteTimestampBuilderInitial<N>>;

export interface ReferenceActions {
  onDelete?: UpdateDeleteAction;
  onUpdate?: UpdateDeleteAction;
}

/** A table-level index, key or check (the third argument of `table`), whatever the dialect. */
export interface Constraint {
  readonly [constraint]: true;
}
export interface IndexOn {
  on(...columns: [Column, ...Column[]]): Constraint;
}

type BuildersOf<C extends Record<string, AnyCol>, D extends Dialect> = {
  [K in keyof C]: C[K][typeof builders][D];
};
/** What `pgTable`/`sqliteTable` return for these columns. */
export type Table<D extends Dialect, N extends string, C extends Record<string, AnyCol>> = D extends "pg"
  ? PgTableWithColumns<{
      name: N;
      schema: undefined;
      columns: BuildColumns<N, BuildersOf<C, "pg">, "pg">;
      dialect: "pg";
    }>
  : SQLiteTableWithColumns<{
      name: N;
      schema: undefined;
      columns: BuildColumns<N, BuildersOf<C, "sqlite">, "sqlite">;
      dialect: "sqlite";
    }>;

/** The nullable tenant foreign key and the NOT NULL scope derived from it (see db/tables.ts). */
export interface TenantScope {
  columns: { tenantId: Uuid<"tenant_id">; scopeId: ReturnType<Col<TextBuilders<"scope_id">>["notNull"]> };
  /** CHECK `<table>_scope_check`: scope_id = coalesce(tenant_id as text, ''). */
  check(t: { tenantId: Column; scopeId: Column }): Constraint;
}

export interface Kit<D extends Dialect> {
  readonly dialect: D;
  table<N extends string, C extends Record<string, AnyCol>>(
    name: N,
    columns: C,
    extra?: (t: { [K in keyof C]: Column }) => Constraint[],
  ): Table<D, N, C>;

  /** uuid / text */
  uuid<N extends string>(name: N): Uuid<N>;
  text<N extends string, U extends string, T extends Readonly<[U, ...U[]]>>(
    name: N,
    config?: { enum?: T | Writable<T> },
  ): Col<TextBuilders<N, Writable<T>>>;
  /**
   * timestamptz / integer (timestamp_ms), a `Date` either way. The name is typed `string`, not
   * the literal, as the tables' types have always had it (`createdAt()` keeps its literal).
   */
  time(name: string): Time<string>;
  /** jsonb / text (json) */
  json<N extends string>(name: N): Pair<PgJsonbBuilderInitial<N>, SQLiteTextJsonBuilderInitial<N>>;
  /** boolean / integer (boolean) */
  bool<N extends string>(name: N): Pair<PgBooleanBuilderInitial<N>, SQLiteBooleanBuilderInitial<N>>;
  /** integer / integer */
  int<N extends string>(name: N): Pair<PgIntegerBuilderInitial<N>, SQLiteIntegerBuilderInitial<N>>;
  /** bigint (as a JS number) / integer */
  bigint<N extends string>(name: N): Pair<PgBigInt53BuilderInitial<N>, SQLiteIntegerBuilderInitial<N>>;
  /** date / text, a 'YYYY-MM-DD' string either way */
  date<N extends string>(name: N): Pair<PgDateStringBuilderInitial<N>, SQLiteText<N>>;

  /** The UUIDv7 primary key `id`. */
  id(): ReturnType<Uuid<"id">["primaryKey"]>;
  /** `created_at`, NOT NULL. */
  createdAt(): ReturnType<Time<"created_at">["notNull"]>;
  /** A uuid foreign key; ON DELETE CASCADE unless `actions` says otherwise. */
  ref<N extends string>(name: N, target: () => Column, actions?: ReferenceActions): Uuid<N>;
  /** `tenant_id` (referencing `tenants`) + `scope_id`, and their CHECK for table `table`. */
  tenantScope(table: string, tenants: () => Column): TenantScope;

  check(name: string, value: SQL): Constraint;
  index(name: string): IndexOn;
  uniqueIndex(name: string): IndexOn;
  primaryKey(config: { columns: [Column, ...Column[]] }): Constraint;
}

/** Any function: `makeKit` gives each the type `Kit` declares for it. */
type Untyped = (...args: never[]) => unknown;

/** What a dialect supplies: its drizzle functions (`Kit` has the types). */
export interface Primitives<D extends Dialect> {
  dialect: D;
  table: Untyped;
  uuid(name: string): unknown;
  text(name: string, config?: { enum?: readonly [string, ...string[]] }): unknown;
  time(name: string): unknown;
  json(name: string): unknown;
  bool(name: string): unknown;
  int(name: string): unknown;
  bigint(name: string): unknown;
  date(name: string): unknown;
  /** `value` as text, for comparing a uuid with text (`::text` on Postgres, nothing on SQLite). */
  asText(value: Column): SQL;
  check: Untyped;
  index: Untyped;
  uniqueIndex: Untyped;
  primaryKey: Untyped;
}

export function makeKit<D extends Dialect>(p: Primitives<D>): Kit<D> {
  const time = p.time as <N extends string>(name: N) => Time<N>;
  const kit: Omit<Kit<D>, "id" | "createdAt" | "ref" | "tenantScope"> = {
    dialect: p.dialect,
    table: p.table as Kit<D>["table"],
    uuid: p.uuid as Kit<D>["uuid"],
    text: p.text as Kit<D>["text"],
    time,
    json: p.json as Kit<D>["json"],
    bool: p.bool as Kit<D>["bool"],
    int: p.int as Kit<D>["int"],
    bigint: p.bigint as Kit<D>["bigint"],
    date: p.date as Kit<D>["date"],
    check: p.check as Kit<D>["check"],
    index: p.index as Kit<D>["index"],
    uniqueIndex: p.uniqueIndex as Kit<D>["uniqueIndex"],
    primaryKey: p.primaryKey as Kit<D>["primaryKey"],
  };
  const ref: Kit<D>["ref"] = (name, target, actions = { onDelete: "cascade" }) =>
    kit.uuid(name).references(target, actions);
  return {
    ...kit,
    id: () => kit.uuid("id").primaryKey(),
    createdAt: () => time("created_at").notNull(),
    ref,
    tenantScope: (table, tenants) => ({
      columns: { tenantId: ref("tenant_id", tenants), scopeId: kit.text("scope_id").notNull() },
      check: (t) =>
        kit.check(`${table}_scope_check`, sql`${t.scopeId} = coalesce(${p.asText(t.tenantId)}, '')`),
    }),
  };
}

/**
 * SQL shapes shared by the tenant-data features (consents, notification preferences, usage),
 * written once for both dialects.
 *
 * Why `scope_id`: Postgres and SQLite treat NULLs as distinct in unique indexes, so a conflict
 * target on the nullable `tenant_id` would never conflict for global (no tenant) rows and
 * concurrent upserts would pile up duplicates. Every key therefore uses the NOT NULL `scope_id`
 * ('' for global, the tenant id otherwise), kept in step with `tenant_id` by a CHECK.
 */
import { type AnyColumn, and, eq, getTableColumns, is, isNull, or, SQL, sql } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Schema } from "../../db/database";

/** The scope key of a tenant id, or of the global scope (''). */
export function scopeIdOf(tenantId: string | null | undefined): string {
  return tenantId ?? "";
}

/** `excluded.<column>`: the value the conflicting INSERT proposed (same spelling in both dialects). */
export function excluded(column: AnyColumn): SQL {
  return sql`excluded.${sql.identifier(column.name)}`;
}

/**
 * `SELECT <row> FROM <from> WHERE <where>`, shaped for `db.insert(table).select(...)`: the row
 * is inserted only when `where` finds a row, so a guard (membership, a claimed idempotency key)
 * and the write are ONE statement with no window between check and write.
 *
 * Values follow the table's column order (the order drizzle lists the INSERT columns in), each
 * bound through its column's encoder (dates become epoch ms on SQLite and ISO text on Postgres;
 * booleans 0/1 on SQLite). On Postgres the parameters stay untyped and take the type of the
 * target column, as `INSERT … SELECT` coerces its select list to the insert columns. The WHERE
 * also removes SQLite's `INSERT … SELECT … ON CONFLICT` parsing ambiguity, which needs one.
 */
export function rowWhere<T extends SQLiteTable>(
  table: T,
  row: { [K in keyof T["$inferInsert"]]: T["$inferInsert"][K] | SQL },
  from: SQLiteTable,
  where: SQL | undefined,
): SQL {
  const values = Object.entries(getTableColumns(table)).map(([key, column]) => {
    const value = (row as Record<string, unknown>)[key] ?? null;
    // An SQL value is a column of `from` (e.g. the recipient read from the users row).
    return is(value, SQL) ? value : sql.param(value, column);
  });
  return sql`select ${sql.join(values, sql`, `)} from ${from} where ${where}`;
}

/**
 * The membership condition on the memberships table: "`userId` belongs to `tenantId`, which is
 * not deleted and admits a session of assurance `aal`" (a tenant with `requireMfa` admits aal 2
 * only). It goes into the statement that reads or writes, so a write needs no separate check;
 * when it finds nothing, the caller asks `requireTenantRole` which answer (403 forbidden or
 * tenant_mfa_required) applies.
 */
export function isMember(
  t: Schema,
  tenantId: string,
  userId: string | SQL,
  aal: number | SQL,
): SQL | undefined {
  const m = t.tenantMemberships;
  const a = t.tenantAccounts;
  // `aal` is a number, or (a folded session check) the session's column read in the statement.
  const mfaAdmitted =
    typeof aal === "number"
      ? aal >= 2
        ? undefined
        : eq(a.requireMfa, false)
      : or(sql`${aal} >= 2`, eq(a.requireMfa, false));
  const admitted = and(eq(a.id, tenantId), isNull(a.deletedAt), mfaAdmitted);
  return and(
    eq(m.tenantId, tenantId),
    eq(m.userId, userId),
    sql`exists (select 1 from ${a} where ${admitted})`,
  );
}

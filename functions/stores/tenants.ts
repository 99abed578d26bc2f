/** Tenants and their memberships. */
import { and, asc, count, eq, isNull, ne, or, sql } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";

export type TenantRole = "owner" | "admin" | "member";

/** The columns of a tenant that answers show. */
const tenantProjection = (t: Schema) => ({
  id: t.tenantAccounts.id,
  name: t.tenantAccounts.name,
  createdAt: t.tenantAccounts.createdAt,
  requireMfa: t.tenantAccounts.requireMfa,
});

export type TenantRow = Pick<
  Schema["tenantAccounts"]["$inferSelect"],
  keyof ReturnType<typeof tenantProjection>
>;

export function tenantView(r: TenantRow) {
  return { id: r.id, name: r.name, createdAt: r.createdAt.toISOString(), requireMfa: r.requireMfa };
}

/** The role of `userId` in `tenantId`, or null when not a member (or no such tenant). */
export async function findMemberRole(
  { db, t }: Database,
  tenantId: string,
  userId: string,
): Promise<TenantRole | null> {
  const m = t.tenantMemberships;
  const [row] = await db
    .select({ role: m.role })
    .from(m)
    .where(and(eq(m.tenantId, tenantId), eq(m.userId, userId)))
    .limit(1);
  return row?.role ?? null;
}

/** `userId`'s role in a live (not deleted) `tenantId` with the tenant's MFA policy, or null; one statement. */
export async function findMembership(
  { db, t }: Database,
  tenantId: string,
  userId: string,
): Promise<{ role: TenantRole; requireMfa: boolean } | null> {
  const m = t.tenantMemberships;
  const a = t.tenantAccounts;
  const [row] = await db
    .select({ role: m.role, requireMfa: a.requireMfa })
    .from(m)
    .innerJoin(a, eq(a.id, m.tenantId))
    .where(and(eq(m.tenantId, tenantId), eq(m.userId, userId), isNull(a.deletedAt)))
    .limit(1);
  return row ?? null;
}

/** Insert of a new tenant row (for a batch with its first owner's membership). */
export function insertTenant(db: Db, t: Schema, row: TenantRow): Query {
  return db.insert(t.tenantAccounts).values(row);
}

/** Insert of a membership (for a batch). */
export function insertMembership(
  db: Db,
  t: Schema,
  row: { tenantId: string; userId: string; role: TenantRole; createdAt: Date },
): Query {
  return db.insert(t.tenantMemberships).values(row);
}

/** The tenants `userId` belongs to, with the user's role, in id (creation) order. */
export function listMemberships(
  { db, t }: Database,
  userId: string,
): Promise<(TenantRow & { role: TenantRole })[]> {
  const a = t.tenantAccounts;
  const m = t.tenantMemberships;
  return db
    .select({ ...tenantProjection(t), role: m.role })
    .from(m)
    .innerJoin(a, eq(a.id, m.tenantId))
    .where(eq(m.userId, userId))
    .orderBy(asc(a.id));
}

/**
 * Adds the account with `email` to the tenant. The primary key (tenant, user) decides between
 * concurrent adds of one user: exactly one inserts, the others get "already_member".
 */
export async function insertMemberByEmail(
  { db, t }: Database,
  m: { tenantId: string; email: string; role: TenantRole; now: Date },
): Promise<{ userId: string } | "no_account" | "already_member"> {
  const [user] = await db.select({ id: t.users.id }).from(t.users).where(eq(t.users.email, m.email)).limit(1);
  if (!user) return "no_account";
  const added = await db
    .insert(t.tenantMemberships)
    .values({ tenantId: m.tenantId, userId: user.id, role: m.role, createdAt: m.now })
    .onConflictDoNothing()
    .returning({ userId: t.tenantMemberships.userId });
  return added.length === 1 ? { userId: user.id } : "already_member";
}

/**
 * Removes `userId` from the tenant unless that would leave it without an owner; false when
 * nothing was removed (no longer a member, or the last owner). The owner count is part of the
 * DELETE itself, so the check and the write are one statement.
 */
export async function deleteMembership(
  database: Database,
  tenantId: string,
  userId: string,
): Promise<boolean> {
  const { t } = database;
  const m = t.tenantMemberships;
  const [, removed] = await database.atomic((db) => {
    const otherOwners = db
      .select({ n: count() })
      .from(m)
      .where(and(eq(m.tenantId, tenantId), eq(m.role, "owner"), ne(m.userId, userId)));
    return [
      // Takes the tenant row's lock on Postgres so two owners removing each other serialize and
      // the second sees the first's delete (SQLite serializes writers anyway).
      db
        .update(t.tenantAccounts)
        .set({ name: sql`${t.tenantAccounts.name}` })
        .where(eq(t.tenantAccounts.id, tenantId)),
      db
        .delete(m)
        .where(
          and(
            eq(m.tenantId, tenantId),
            eq(m.userId, userId),
            or(ne(m.role, "owner"), sql`(${otherOwners}) > 0`),
          ),
        )
        .returning({ userId: m.userId }),
    ] as const;
  });
  return removed.length === 1;
}

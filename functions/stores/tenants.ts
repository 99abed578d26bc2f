/** Tenants and their memberships. */
import { aliasedTable, and, asc, eq, exists, inArray, isNull, ne, or, type SQL, sql } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";
import { insertSecurityEventIf, type SecurityEventInsert } from "./security-events";

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
  const [row] = await selectMemberRole(db, t, tenantId, userId);
  return row?.role ?? null;
}

/** findMemberRole as a query for a batch. */
export function selectMemberRole(db: Db, t: Schema, tenantId: string, userId: string) {
  const m = t.tenantMemberships;
  return db
    .select({ role: m.role })
    .from(m)
    .where(and(eq(m.tenantId, tenantId), eq(m.userId, userId)))
    .limit(1);
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

/**
 * `callerId`'s membership (as findMembership) with the role of `memberId` in the same tenant
 * (null when not a member), in ONE statement; null when the caller is no member of the live tenant.
 */
export async function findMembershipWithMember(
  { db, t }: Database,
  tenantId: string,
  callerId: string,
  memberId: string,
): Promise<{ role: TenantRole; requireMfa: boolean; memberRole: TenantRole | null } | null> {
  const m = t.tenantMemberships;
  const a = t.tenantAccounts;
  const member = aliasedTable(m, "member");
  const [row] = await db
    .select({
      role: m.role,
      requireMfa: a.requireMfa,
      memberRole: sql<TenantRole | null>`(${db
        .select({ role: member.role })
        .from(member)
        .where(and(eq(member.tenantId, tenantId), eq(member.userId, memberId)))})`,
    })
    .from(m)
    .innerJoin(a, eq(a.id, m.tenantId))
    .where(and(eq(m.tenantId, tenantId), eq(m.userId, callerId), isNull(a.deletedAt)))
    .limit(1);
  return row ?? null;
}

/**
 * What inviting `email` needs, in ONE statement: `callerId`'s membership in the live tenant (as
 * findMembership), the tenant, and whether a member of it has that address; null when the caller
 * is no member of the live tenant.
 */
export async function findMembershipForInvite(
  { db, t }: Database,
  tenantId: string,
  callerId: string,
  email: string,
) {
  const m = t.tenantMemberships;
  const a = t.tenantAccounts;
  const member = aliasedTable(m, "member");
  const u = t.users;
  const [row] = await db
    .select({
      role: m.role,
      requireMfa: a.requireMfa,
      tenant: tenantProjection(t),
      emailIsMember: sql<number>`case when ${exists(
        db
          .select({ one: sql`1` })
          .from(member)
          .innerJoin(u, eq(u.id, member.userId))
          .where(and(eq(member.tenantId, tenantId), eq(u.email, email))),
      )} then 1 else 0 end`,
    })
    .from(m)
    .innerJoin(a, eq(a.id, m.tenantId))
    .where(and(eq(m.tenantId, tenantId), eq(m.userId, callerId), isNull(a.deletedAt)))
    .limit(1);
  return row ? { ...row, emailIsMember: Number(row.emailIsMember) === 1 } : null;
}

/** The live (not deleted) tenant `tenantId`, or null. */
export async function findTenant({ db, t }: Database, tenantId: string): Promise<TenantRow | null> {
  const [row] = await selectTenant(db, t, tenantId);
  return row ?? null;
}

/** findTenant as a query for a batch. */
export function selectTenant(db: Db, t: Schema, tenantId: string) {
  const a = t.tenantAccounts;
  return db
    .select(tenantProjection(t))
    .from(a)
    .where(and(eq(a.id, tenantId), isNull(a.deletedAt)))
    .limit(1);
}

/**
 * Takes the tenant row's lock for the rest of the batch (Postgres: a row lock held to commit;
 * SQLite serializes writers anyway). Batches that must not interleave for one tenant start with
 * it: membership and role changes (the owner count), invitation accept, revoke and replace (the
 * invitation row decides), and the tenant's deletion. Under READ COMMITTED each later statement
 * of the batch then sees what the other batch committed.
 */
export function lockTenant(db: Db, t: Schema, tenantId: string): Query {
  const a = t.tenantAccounts;
  return db
    .update(a)
    .set({ name: sql`${a.name}` })
    .where(eq(a.id, tenantId));
}

/** Update of a live tenant's name and/or MFA policy (for a batch); returns the tenant as changed. */
export function updateTenant(
  db: Db,
  t: Schema,
  tenantId: string,
  patch: { name?: string | undefined; requireMfa?: boolean | undefined },
) {
  const a = t.tenantAccounts;
  const set = {
    ...(patch.name !== undefined ? { name: patch.name } : {}),
    ...(patch.requireMfa !== undefined ? { requireMfa: patch.requireMfa } : {}),
  };
  return db
    .update(a)
    .set(set)
    .where(and(eq(a.id, tenantId), isNull(a.deletedAt)))
    .returning(tenantProjection(t));
}

/**
 * The statements that delete a tenant (for a batch, after lockTenant): the row stays as a
 * tombstone (name erased, `deleted_at` set) for the consent records and security events that
 * reference it and are kept as evidence; memberships, pending invitations and the tenant's
 * notification preferences and usage counters go.
 */
export function tombstoneTenant(db: Db, t: Schema, tenantId: string, now: Date) {
  return [
    db
      .update(t.tenantAccounts)
      .set({ name: "", deletedAt: now })
      .where(and(eq(t.tenantAccounts.id, tenantId), isNull(t.tenantAccounts.deletedAt))),
    db.delete(t.tenantMemberships).where(eq(t.tenantMemberships.tenantId, tenantId)),
    db.delete(t.tenantInvitations).where(eq(t.tenantInvitations.tenantId, tenantId)),
    db.delete(t.userNotificationPreferences).where(eq(t.userNotificationPreferences.tenantId, tenantId)),
    db.delete(t.usageCounters).where(eq(t.usageCounters.tenantId, tenantId)),
  ] as const;
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

/** A member as the member list shows it. */
export interface MemberRow {
  userId: string;
  email: string;
  displayName: string | null;
  role: TenantRole;
  joinedAt: Date;
  mfaEnabled: boolean;
}

export function memberView(m: MemberRow) {
  return { ...m, joinedAt: m.joinedAt.toISOString() };
}

/** The tenant's members with their account's address, name and whether it has a verified factor; one statement. */
export function listMembers({ db, t }: Database, tenantId: string): Promise<MemberRow[]> {
  const m = t.tenantMemberships;
  const u = t.users;
  const f = t.userMfaMethods;
  return db
    .select({
      userId: m.userId,
      email: u.email,
      displayName: u.displayName,
      role: m.role,
      joinedAt: m.createdAt,
      // Postgres answers a boolean, SQLite 0/1.
      mfaEnabled:
        sql<boolean>`exists (select 1 from ${f} where ${f.userId} = ${m.userId} and ${f.status} = 'verified')`.mapWith(
          Boolean,
        ),
    })
    .from(m)
    .innerJoin(u, eq(u.id, m.userId))
    .where(eq(m.tenantId, tenantId))
    .orderBy(asc(m.createdAt), asc(m.userId));
}

/** True when an account with this (normalised) email is a member of the tenant. */
export async function isMemberEmail({ db, t }: Database, tenantId: string, email: string): Promise<boolean> {
  const m = t.tenantMemberships;
  const [row] = await db
    .select({ userId: m.userId })
    .from(m)
    .innerJoin(t.users, eq(t.users.id, m.userId))
    .where(and(eq(m.tenantId, tenantId), eq(t.users.email, email)))
    .limit(1);
  return row !== undefined;
}

/** "Some member other than `userId` is an owner of the tenant", for a statement's WHERE. */
function anotherOwner(t: Schema, tenantId: string, userId: string): SQL {
  // Inside the subquery the table name binds to the subquery's own FROM.
  const others = t.tenantMemberships;
  return sql`exists (select 1 from ${others} where ${and(
    eq(others.tenantId, tenantId),
    eq(others.role, "owner"),
    ne(others.userId, userId),
  )})`;
}

/**
 * Gives member `userId` the role `role`, unless that would leave the tenant without an owner or
 * the caller (`actorId`) no longer holds one of `actorRoles`: one conditional UPDATE after the
 * tenant row's lock, so two owners demoting each other at once serialize and the second sees
 * the first's change (one owner stays). Returns false when nothing changed.
 */
export async function changeMemberRole(
  database: Database,
  change: {
    tenantId: string;
    userId: string;
    role: TenantRole;
    actorId: string;
    actorRoles: readonly TenantRole[];
  },
): Promise<boolean> {
  const { t } = database;
  const m = t.tenantMemberships;
  const actor = t.tenantMemberships;
  const { tenantId, userId, role } = change;
  const [, changed] = await database.atomic((db) => [
    lockTenant(db, t, tenantId),
    db
      .update(m)
      .set({ role })
      .where(
        and(
          eq(m.tenantId, tenantId),
          eq(m.userId, userId),
          // Demoting an owner needs another owner to stay.
          role === "owner" ? undefined : or(ne(m.role, "owner"), anotherOwner(t, tenantId, userId)),
          sql`exists (select 1 from ${actor} where ${and(
            eq(actor.tenantId, tenantId),
            eq(actor.userId, change.actorId),
            inArray(actor.role, [...change.actorRoles]),
          )})`,
        ),
      )
      .returning({ userId: m.userId }),
  ]);
  return changed.length === 1;
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
  events: SecurityEventInsert[] = [],
): Promise<boolean> {
  const { t } = database;
  const m = t.tenantMemberships;
  const removable = and(
    eq(m.tenantId, tenantId),
    eq(m.userId, userId),
    or(ne(m.role, "owner"), anotherOwner(t, tenantId, userId)),
  );
  // After the tenant row's lock, so two owners removing each other serialize (see lockTenant).
  // The events go in before the DELETE, written only when the row it removes is there (under the
  // lock the DELETE then removes it): the removal and its events land together or not at all.
  const results = await database.atomic((db) => [
    lockTenant(db, t, tenantId),
    ...events.flatMap((event) => insertSecurityEventIf(db, t, event, m, removable)),
    db.delete(m).where(removable).returning({ userId: m.userId }),
  ]);
  return (results[results.length - 1] as unknown[]).length === 1;
}

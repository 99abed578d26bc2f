/**
 * Tenant invitations. Only pending invitations have a row: accepting or revoking one deletes
 * it, so `DELETE … RETURNING` decides which of racing uses wins, and inviting an address again
 * replaces the row of that (tenant, email). The token is stored as its SHA-256 only. Every
 * batch that writes an invitation starts with the tenant row's lock (lockTenant), so accepts,
 * revokes, replacements and the tenant's deletion never interleave on Postgres (SQLite
 * serializes writers anyway).
 */
import { and, asc, eq, gt, isNull, type SQL, sql } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";
import { rowWhere } from "../tenant-data/sql";
import { insertSecurityEventIf, type SecurityEventInsert } from "./security-events";
import { lockTenant, selectMemberRole, selectTenant, type TenantRole, type TenantRow } from "./tenants";
import { selectUser, type UserRow } from "./users";

export type InvitationRole = "admin" | "member";

/** The columns of an invitation that answers show (never the token hash). */
const invitationProjection = (t: Schema) => ({
  id: t.tenantInvitations.id,
  email: t.tenantInvitations.email,
  role: t.tenantInvitations.role,
  createdAt: t.tenantInvitations.createdAt,
  expiresAt: t.tenantInvitations.expiresAt,
});

export interface InvitationRow {
  id: string;
  email: string;
  role: InvitationRole;
  createdAt: Date;
  expiresAt: Date;
}

export function invitationView(i: InvitationRow) {
  return { ...i, createdAt: i.createdAt.toISOString(), expiresAt: i.expiresAt.toISOString() };
}

/**
 * Creates the invitation of (tenant, email), or replaces the pending one of that address (new
 * token, role, inviter and lifetime; the id stays), after the tenant row's lock. `then` are
 * statements of the same batch (the message, the event). Returns the invitation as stored.
 */
export async function upsertInvitation(
  database: Database,
  row: InvitationRow & { tenantId: string; tokenHash: string; invitedBy: string },
  then: (db: Db) => Query[],
): Promise<InvitationRow> {
  const { t } = database;
  const i = t.tenantInvitations;
  const [, [stored]] = await database.atomic((db) => [
    lockTenant(db, t, row.tenantId),
    db
      .insert(i)
      .values(row)
      .onConflictDoUpdate({
        target: [i.tenantId, i.email],
        set: {
          tokenHash: row.tokenHash,
          role: row.role,
          invitedBy: row.invitedBy,
          createdAt: row.createdAt,
          expiresAt: row.expiresAt,
        },
      })
      .returning(invitationProjection(t)),
    ...then(db),
  ]);
  if (!stored) throw new Error("invitation upsert returned no row");
  return stored;
}

/** The tenant's pending invitations that have not expired, oldest first. */
export function listInvitations({ db, t }: Database, tenantId: string, now: Date): Promise<InvitationRow[]> {
  const i = t.tenantInvitations;
  return db
    .select(invitationProjection(t))
    .from(i)
    .where(and(eq(i.tenantId, tenantId), gt(i.expiresAt, now)))
    .orderBy(asc(i.createdAt), asc(i.id));
}

/**
 * Revokes invitation `id` of the tenant: its event is written only when the row is there, then
 * the row is deleted, after the tenant row's lock. False for an unknown id (or one of another
 * tenant).
 */
export async function revokeInvitation(
  database: Database,
  tenantId: string,
  id: string,
  event: SecurityEventInsert,
): Promise<boolean> {
  const { t } = database;
  const i = t.tenantInvitations;
  const which = and(eq(i.tenantId, tenantId), eq(i.id, id));
  const results = await database.atomic((db) => [
    lockTenant(db, t, tenantId),
    // Before the delete: the event is written only when the invitation is there to revoke.
    ...insertSecurityEventIf(db, t, event, i, which),
    db.delete(i).where(which).returning({ id: i.id }),
  ]);
  // The delete is last (the events before it are one statement or more: webhook deliveries).
  return (results[results.length - 1] as unknown[]).length === 1;
}

/** The live invitation whose token has this hash (pending, not expired), with its tenant; or null. */
export async function findLiveInvitation(
  { db, t }: Database,
  tokenHash: string,
  now: Date,
): Promise<(InvitationRow & { tenantId: string }) | null> {
  const [row] = await db
    .select({ ...invitationProjection(t), tenantId: t.tenantInvitations.tenantId })
    .from(t.tenantInvitations)
    .where(live(t, tokenHash, now))
    .limit(1);
  return row ?? null;
}

/**
 * findLiveInvitation with the live user `userId` (null when the account is gone), in ONE round
 * trip (a batch of two reads).
 */
export async function findLiveInvitationWithUser(
  database: Database,
  tokenHash: string,
  now: Date,
  userId: string,
): Promise<{ invitation: (InvitationRow & { tenantId: string }) | null; user: UserRow | null }> {
  const { t } = database;
  const [invitations, users] = await database.atomic((db) => [
    db
      .select({ ...invitationProjection(t), tenantId: t.tenantInvitations.tenantId })
      .from(t.tenantInvitations)
      .where(live(t, tokenHash, now))
      .limit(1),
    selectUser(db, t, userId),
  ]);
  return { invitation: invitations[0] ?? null, user: users[0] ?? null };
}

/** "This token's invitation is pending, unexpired, and of a tenant that is not deleted." */
function live(t: Schema, tokenHash: string, now: Date): SQL {
  const i = t.tenantInvitations;
  const a = t.tenantAccounts;
  return and(
    eq(i.tokenHash, tokenHash),
    gt(i.expiresAt, now),
    sql`exists (select 1 from ${a} where ${and(eq(a.id, sql`${i.tenantId}`), isNull(a.deletedAt))})`,
  ) as SQL;
}

/**
 * Spends the invitation with this token for `userId`, in one batch after the tenant row's lock:
 * the events (member_added only when the user is not a member yet) and the membership are
 * written from the invitation row while it is there, then the row is deleted. Of racing accepts
 * the lock lets one batch find the row; the others find none and write nothing. Returns whether
 * this call spent it, with the tenant and the user's role as the batch leaves them.
 */
export async function acceptInvitation(
  database: Database,
  a: {
    tenantId: string;
    tokenHash: string;
    userId: string;
    now: Date;
    accepted: SecurityEventInsert;
    memberAdded: SecurityEventInsert;
  },
): Promise<{ spent: boolean; tenant: TenantRow | null; role: TenantRole | null }> {
  const { t } = database;
  const i = t.tenantInvitations;
  const m = t.tenantMemberships;
  const pending = live(t, a.tokenHash, a.now);
  const notMember = sql`not exists (select 1 from ${m} where ${and(
    eq(m.tenantId, a.tenantId),
    eq(m.userId, a.userId),
  )})`;
  const membership = {
    tenantId: sql`${i.tenantId}`,
    userId: a.userId,
    role: sql`${i.role}`,
    createdAt: a.now,
  };
  const results = await database.atomic((db) => [
    lockTenant(db, t, a.tenantId),
    ...insertSecurityEventIf(db, t, a.accepted, i, pending),
    ...insertSecurityEventIf(db, t, a.memberAdded, i, and(pending, notMember)),
    db
      .insert(m)
      .select(rowWhere(m, membership, i, pending))
      .onConflictDoNothing(),
    db.delete(i).where(pending).returning({ id: i.id }),
    // What the answer shows, as the batch leaves it (same round trip).
    selectTenant(db, t, a.tenantId),
    selectMemberRole(db, t, a.tenantId, a.userId),
  ]);
  // The delete and the two reads are last (the events before them are one statement or more:
  // webhook deliveries).
  const [deleted, tenants, roles] = results.slice(-3) as [unknown[], TenantRow[], { role: TenantRole }[]];
  return { spent: deleted.length === 1, tenant: tenants[0] ?? null, role: roles[0]?.role ?? null };
}

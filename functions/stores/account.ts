/**
 * The account as a whole: the summary `GET /v1/me` shows (a user with the counts of its second
 * factors), and the deletion of an account with everything that leads back to its person.
 */
import {
  type AnyColumn,
  aliasedTable,
  and,
  eq,
  exists,
  inArray,
  isNotNull,
  isNull,
  ne,
  not,
  notExists,
  or,
  type SQL,
  sql,
} from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";
import { verifiedFactorCount } from "./factors";
import { insertOutboxMessageToUserIf, type OutboxMessage } from "./outbox";
import { insertSecurityEventIf, type SecurityEventInsert } from "./security-events";
import { type SessionRow, sessionOfToken, sessionProjection } from "./sessions";
import { isLiveUser, lockUser, type UserRow, userProjection } from "./users";

export interface AccountSummaryRow extends UserRow {
  verifiedFactors: number;
  recoveryCodesRemaining: number;
}

/**
 * The user with its verified factor and unused recovery code counts, or null. ONE statement:
 * both counts are scalar subqueries of the user row, so the summary costs a single round trip.
 */
export async function findAccountSummary(
  { db, t }: Database,
  userId: string,
): Promise<AccountSummaryRow | null> {
  const [row] = await db
    .select(summaryColumns(t))
    .from(t.users)
    .where(and(eq(t.users.id, userId), isLiveUser(t)));
  return row ?? null;
}

/** The user row with its verified factor and unused recovery code counts (scalar subqueries). */
function summaryColumns(t: Schema) {
  const u = t.users;
  const f = t.userMfaMethods;
  const r = t.userRecoveryCodes;
  return {
    ...userProjection(t),
    verifiedFactors:
      sql<number>`(select count(*) from ${f} where ${and(eq(f.userId, u.id), eq(f.status, "verified"))})`.mapWith(
        Number,
      ),
    recoveryCodesRemaining:
      sql<number>`(select count(*) from ${r} where ${and(eq(r.userId, u.id), isNull(r.usedAt))})`.mapWith(
        Number,
      ),
  };
}

/**
 * The account summary of the live session with this token hash, with that session, in ONE
 * statement (the session check folded into the read: `GET /v1/me` is one round trip); null
 * when no live session has the token or its account is gone.
 */
export async function findAccountSummaryBySession(
  { db, t }: Database,
  tokenHash: string,
  now: Date,
): Promise<{ session: SessionRow; summary: AccountSummaryRow } | null> {
  const s = t.userSessions;
  const [row] = await db
    .select({ session: sessionProjection(t), summary: summaryColumns(t) })
    .from(s)
    .innerJoin(t.users, and(eq(t.users.id, s.userId), isLiveUser(t)))
    .where(sessionOfToken(t, tokenHash, now).live);
  return row ?? null;
}

/**
 * "`userId` is the last owner of a live tenant that has other members": the condition that
 * refuses an account deletion (409 last_owner), as SQL, so it can guard the deletion batch
 * itself and not only a read before it.
 */
function lastOwnerOfSharedTenant(db: Db, t: Schema, userId: string): SQL {
  const m = t.tenantMemberships;
  const a = t.tenantAccounts;
  const other = aliasedTable(m, "other_member");
  const otherOwner = aliasedTable(m, "other_owner");
  return exists(
    db
      .select({ one: sql`1` })
      .from(m)
      .innerJoin(a, eq(a.id, m.tenantId))
      .where(
        and(
          eq(m.userId, userId),
          eq(m.role, "owner"),
          isNull(a.deletedAt),
          exists(
            db
              .select({ one: sql`1` })
              .from(other)
              .where(and(eq(other.tenantId, m.tenantId), ne(other.userId, userId))),
          ),
          notExists(
            db
              .select({ one: sql`1` })
              .from(otherOwner)
              .where(
                and(
                  eq(otherOwner.tenantId, m.tenantId),
                  ne(otherOwner.userId, userId),
                  eq(otherOwner.role, "owner"),
                ),
              ),
          ),
        ),
      ),
  );
}

/** True when deleting `userId` now would leave a tenant with members but no owner. */
export async function isLastOwnerOfSharedTenant(database: Database, userId: string): Promise<boolean> {
  const { db, t } = database;
  const [row] = await db
    .select({ blocked: sql<number>`case when ${lastOwnerOfSharedTenant(db, t, userId)} then 1 else 0 end` })
    .from(t.users)
    .where(eq(t.users.id, userId));
  return Number(row?.blocked ?? 0) === 1;
}

/** The live tenants in which `userId` is the only member: deleting the account deletes them. */
export async function listSoleMemberTenants({ db, t }: Database, userId: string): Promise<string[]> {
  const rows = await selectSoleMemberTenants(db, t, userId);
  return rows.map((r) => r.id);
}

/**
 * What deleting the account of `userId` needs to know first, in ONE round trip (a batch of two
 * reads): the live user with its password hash (for the step-up), whether it is the last owner
 * of a shared tenant, its verified factor count, and the tenants that go with it; null when the
 * account is gone. The deletion batch decides again, in SQL, against what it finds then.
 */
export async function findAccountForDeletion(database: Database, userId: string) {
  const { t } = database;
  const u = t.users;
  const [users, soleTenants] = await database.atomic((db) => [
    db
      .select({
        ...userProjection(t),
        passwordHash: u.passwordHash,
        lastOwner: sql<number>`case when ${lastOwnerOfSharedTenant(db, t, userId)} then 1 else 0 end`,
        verifiedFactors: verifiedFactorCount(t, u.id),
      })
      .from(u)
      .where(and(eq(u.id, userId), isLiveUser(t)))
      .limit(1),
    selectSoleMemberTenants(db, t, userId),
  ]);
  const [row] = users;
  if (!row) return null;
  const { lastOwner, ...user } = row;
  return { ...user, lastOwner: Number(lastOwner) === 1, soleTenants: soleTenants.map((r) => r.id) };
}

function selectSoleMemberTenants(db: Db, t: Schema, userId: string) {
  const m = t.tenantMemberships;
  const other = aliasedTable(m, "other_member");
  return db
    .select({ id: m.tenantId })
    .from(m)
    .innerJoin(t.tenantAccounts, eq(t.tenantAccounts.id, m.tenantId))
    .where(
      and(
        eq(m.userId, userId),
        isNull(t.tenantAccounts.deletedAt),
        notExists(
          db
            .select({ one: sql`1` })
            .from(other)
            .where(and(eq(other.tenantId, m.tenantId), ne(other.userId, userId))),
        ),
      ),
    );
}

export interface AccountDeletion {
  userId: string;
  now: Date;
  /** The `security_notice` (reason account_deleted), to the address the account has now. */
  notice: Omit<OutboxMessage, "recipient">;
  /** `user.deleted`, kept under the user's id. */
  event: SecurityEventInsert;
  /** `tenant.deleted` for each tenant expected to go with the account (written only if it did). */
  tenantEvents: SecurityEventInsert[];
  /** Statements to run in the same batch whatever it decides (the step-up's mark and event). */
  also?: (db: Db) => Query[];
}

/**
 * Deletes an account in ONE atomic batch; false when nothing was deleted (the account is the
 * last owner of a tenant with other members, or is already deleted).
 *
 * A batch cannot branch, so the decision is one statement and the rest follows it in SQL:
 * 1. the user's row lock, then the row locks of the user's tenants (the lock member removals
 *    take first, stores/tenants.ts; role changes must take it too), so a concurrent change of
 *    the other owner cannot slip between the check and the deletion (SQLite serializes
 *    writers anyway);
 * 2. the deletion notice, inserted only if the account is live and not the last owner of a
 *    shared tenant: it reads the address from the users row in the same statement;
 * 3. every later statement runs only if that notice row exists (a marker unique to this
 *    request): tenants where the user is the only member are tombstoned (name erased, rows
 *    they scope deleted, API keys revoked, consents and events kept); invitations to the
 *    address, preferences, usage, memberships, sessions, factors, recovery codes, challenges,
 *    tokens, idempotency keys and every other message about the user or to the address are
 *    deleted; the user row becomes a tombstone (`deleted:<id>`, no password hash, name or
 *    verification), which the consent records and security events kept as evidence still
 *    reference.
 * A sign-in racing this batch either committed its session before (deleted here) or inserts
 * after and finds the tombstone (stores/sessions.ts inserts only for live users).
 */
export async function deleteAccount(database: Database, d: AccountDeletion): Promise<boolean> {
  const { t } = database;
  const { userId, now } = d;
  const o = t.outboxMessages;
  const m = t.tenantMemberships;
  const a = t.tenantAccounts;
  const u = t.users;
  const results = await database.atomic((db) => {
    const decided = exists(db.select({ one: sql`1` }).from(o).where(eq(o.id, d.notice.id)));
    const address = db.select({ email: u.email }).from(u).where(eq(u.id, userId));
    const usersTenants = db.select({ id: m.tenantId }).from(m).where(eq(m.userId, userId));
    // Tenants of the user that are deleted: after step "tombstone", those that go with the account.
    const deadTenants = db
      .select({ id: m.tenantId })
      .from(m)
      .innerJoin(a, eq(a.id, m.tenantId))
      .where(and(eq(m.userId, userId), isNotNull(a.deletedAt)));
    const other = aliasedTable(m, "other_member");
    const ownedBy = (table: { userId: AnyColumn; tenantId: AnyColumn }) =>
      and(or(eq(table.userId, userId), inArray(table.tenantId, deadTenants)), decided);
    return [
      lockUser(db, t, userId),
      db
        .update(a)
        .set({ name: sql`${a.name}` })
        .where(inArray(a.id, usersTenants)),
      insertOutboxMessageToUserIf(
        db,
        t,
        d.notice,
        userId,
        and(isNull(u.deletedAt), not(lastOwnerOfSharedTenant(db, t, userId)))!,
      ),
      db
        .update(a)
        .set({ name: "", deletedAt: now })
        .where(
          and(
            inArray(a.id, usersTenants),
            isNull(a.deletedAt),
            notExists(
              db
                .select({ one: sql`1` })
                .from(other)
                .where(and(eq(other.tenantId, a.id), ne(other.userId, userId))),
            ),
            decided,
          ),
        ),
      db
        .delete(t.tenantInvitations)
        .where(
          and(
            or(eq(t.tenantInvitations.email, address), inArray(t.tenantInvitations.tenantId, deadTenants)),
            decided,
          ),
        ),
      // A dead tenant's keys are refused already (the lookup joins a live tenant); revoked for good.
      db
        .update(t.apiKeys)
        .set({ revokedAt: now })
        .where(and(inArray(t.apiKeys.tenantId, deadTenants), isNull(t.apiKeys.revokedAt), decided)),
      db.delete(t.userNotificationPreferences).where(ownedBy(t.userNotificationPreferences)),
      db.delete(t.usageCounters).where(ownedBy(t.usageCounters)),
      db.delete(m).where(and(eq(m.userId, userId), decided)),
      ...[
        t.userSessions,
        t.mfaChallenges,
        t.passwordResetTokens,
        t.emailTokens,
        t.userRecoveryCodes,
        t.userMfaMethods,
        t.usageIdempotencyKeys,
      ].map((table) => db.delete(table).where(and(eq(table.userId, userId), decided))),
      // Every message about the user or to the address (sent ones too: they hold the address),
      // except the deletion notice, which is sent and then swept like any message (db/sweep.ts).
      db
        .delete(o)
        .where(and(or(eq(o.userId, userId), eq(o.recipient, address)), ne(o.id, d.notice.id), decided)),
      db
        .update(u)
        .set({
          email: sql`'deleted:' || cast(${u.id} as text)`,
          passwordHash: "",
          displayName: null,
          emailVerifiedAt: null,
          deletedAt: now,
          updatedAt: now,
        })
        .where(and(eq(u.id, userId), decided)),
      ...insertSecurityEventIf(db, t, d.event, o, eq(o.id, d.notice.id)),
      ...d.tenantEvents.flatMap((event) =>
        insertSecurityEventIf(
          db,
          t,
          event,
          a,
          and(eq(a.id, event.tenantId as string), eq(a.deletedAt, now), decided),
        ),
      ),
      ...(d.also?.(db) ?? []),
    ] as [Query, ...Query[]];
  });
  return (results[2] as unknown[]).length === 1;
}

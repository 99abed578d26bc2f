/**
 * The reads of an account export (`POST /v1/me/export`): every record the service holds about a
 * user, read page by page (keyset, EXPORT_PAGE_SIZE rows per query), so an account with tens of
 * thousands of events is exported with one page of rows in memory at a time. Each reader yields
 * its pages already in answer form, in the order of the endpoint that shows the same records.
 */
import { and, asc, desc, eq, gt, isNull, lt, or } from "drizzle-orm";
import type { Database } from "../../db/database";
import { consentProjection, consentView } from "./consents";
import { recoveryCodeStatusOf, selectFactors, selectRecoveryCodeStatus } from "./factors";
import { preferenceProjection, preferenceView } from "./preferences";
import { listSecurityEvents, securityEventView } from "./security-events";
import { sessionProjection, sessionView } from "./sessions";
import { type TenantRole, tenantView } from "./tenants";
import { isLiveUser, userProjection } from "./users";

/**
 * What an export answers before its pages, in ONE round trip (a batch of reads): the live user
 * with its password hash (for the step-up), its factors and its recovery-code status; null when
 * the account is gone.
 */
export async function findExportHead(database: Database, userId: string) {
  const { t } = database;
  const u = t.users;
  const [users, factors, recovery] = await database.atomic((db) => [
    db
      .select({ ...userProjection(t), passwordHash: u.passwordHash })
      .from(u)
      .where(and(eq(u.id, userId), isLiveUser(t)))
      .limit(1),
    selectFactors(db, t, userId),
    selectRecoveryCodeStatus(db, t, userId),
  ]);
  const [user] = users;
  return user ? { user, factors, recovery: recoveryCodeStatusOf(recovery) } : null;
}

/** Rows per query. */
export const EXPORT_PAGE_SIZE = 1000;

/**
 * Pages of a keyset-paged read: `fetch(after, size)` reads up to `size` rows after the key of
 * the previous page's last row (`after` undefined: the first page). Stops at a short page.
 */
async function* keysetPages<Row, Key, View>(
  fetch: (after: Key | undefined, size: number) => Promise<Row[]>,
  keyOf: (row: Row) => Key,
  view: (row: Row) => View,
  size: number,
): AsyncGenerator<View[]> {
  let after: Key | undefined;
  for (;;) {
    const rows = await fetch(after, size);
    if (rows.length > 0) yield rows.map(view);
    const last = rows[rows.length - 1];
    if (rows.length < size || !last) return;
    after = keyOf(last);
  }
}

/** The user's live sessions (as the session list shows them, without any token), newest first. */
export function sessionPages(
  { db, t }: Database,
  user: { userId: string; currentSessionId: string; now: Date },
  size = EXPORT_PAGE_SIZE,
) {
  const s = t.userSessions;
  return keysetPages(
    (before: string | undefined, limit) =>
      db
        .select(sessionProjection(t))
        .from(s)
        .where(
          and(
            eq(s.userId, user.userId),
            isNull(s.revokedAt),
            gt(s.expiresAt, user.now),
            before ? lt(s.id, before) : undefined,
          ),
        )
        .orderBy(desc(s.id))
        .limit(limit),
    (r) => r.id,
    (r) => sessionView(r, user.currentSessionId),
    size,
  );
}

/** The live tenants the user belongs to, with the user's role (as the tenant list shows them), oldest first. */
export function tenantPages({ db, t }: Database, userId: string, size = EXPORT_PAGE_SIZE) {
  const m = t.tenantMemberships;
  const a = t.tenantAccounts;
  return keysetPages(
    (after: string | undefined, limit) =>
      db
        .select({ id: a.id, name: a.name, createdAt: a.createdAt, requireMfa: a.requireMfa, role: m.role })
        .from(m)
        .innerJoin(a, eq(a.id, m.tenantId))
        .where(and(eq(m.userId, userId), isNull(a.deletedAt), after ? gt(a.id, after) : undefined))
        .orderBy(asc(a.id))
        .limit(limit),
    (r) => r.id,
    ({ role, ...tenant }) => ({ tenant: tenantView(tenant), role: role as TenantRole }),
    size,
  );
}

/** Every consent record of the user, in every scope (the full history), newest first. */
export function consentPages({ db, t }: Database, userId: string, size = EXPORT_PAGE_SIZE) {
  const c = t.userConsents;
  return keysetPages(
    (before: string | undefined, limit) =>
      db
        .select(consentProjection(t))
        .from(c)
        .where(and(eq(c.userId, userId), before ? lt(c.id, before) : undefined))
        .orderBy(desc(c.id))
        .limit(limit),
    (r) => r.id,
    consentView,
    size,
  );
}

/** Every notification preference of the user, global and per tenant, oldest first. */
export function preferencePages({ db, t }: Database, userId: string, size = EXPORT_PAGE_SIZE) {
  const p = t.userNotificationPreferences;
  return keysetPages(
    (after: string | undefined, limit) =>
      db
        .select({ ...preferenceProjection(t), id: p.id })
        .from(p)
        .where(and(eq(p.userId, userId), after ? gt(p.id, after) : undefined))
        .orderBy(asc(p.id))
        .limit(limit),
    (r) => r.id,
    ({ id: _, ...pref }) => preferenceView(pref),
    size,
  );
}

type UsageKey = { scopeId: string; feature: string; periodStart: string };

/** Every usage counter of the user (one per scope, feature and UTC day), by scope, feature and day. */
export function usagePages({ db, t }: Database, userId: string, size = EXPORT_PAGE_SIZE) {
  const u = t.usageCounters;
  // Keyset over the primary key's tail (scope_id, feature, period_start), spelled out: row-value
  // comparisons are not in Drizzle's common builder.
  const after = (k: UsageKey) =>
    or(
      gt(u.scopeId, k.scopeId),
      and(eq(u.scopeId, k.scopeId), gt(u.feature, k.feature)),
      and(eq(u.scopeId, k.scopeId), eq(u.feature, k.feature), gt(u.periodStart, k.periodStart)),
    );
  return keysetPages(
    (key: UsageKey | undefined, limit) =>
      db
        .select({
          scopeId: u.scopeId,
          tenantId: u.tenantId,
          feature: u.feature,
          periodStart: u.periodStart,
          total: u.total,
        })
        .from(u)
        .where(and(eq(u.userId, userId), key ? after(key) : undefined))
        .orderBy(asc(u.scopeId), asc(u.feature), asc(u.periodStart))
        .limit(limit),
    (r) => ({ scopeId: r.scopeId, feature: r.feature, periodStart: r.periodStart }),
    (r) => ({
      feature: r.feature,
      tenantId: r.tenantId,
      periodStart: String(r.periodStart),
      total: Number(r.total),
    }),
    size,
  );
}

/** Every security event of the user (as the user's feed shows them), newest first. */
export function securityEventPages(database: Database, userId: string, size = EXPORT_PAGE_SIZE) {
  return keysetPages(
    (before: string | undefined, limit) => listSecurityEvents(database, { userId }, { before, limit }),
    (r) => r.id,
    securityEventView,
    size,
  );
}

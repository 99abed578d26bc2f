/**
 * The consent ledger: append-only records of a user's decisions on a policy version, per scope
 * (global, or one tenant). Nothing here updates or deletes a record; the "current" consent is
 * simply the newest record per policy (ids are UUIDv7, so id order is insertion order).
 */
import { aliasedTable, and, asc, desc, eq, gt, inArray, lt, notExists, sql } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";
import { scopeIdOf } from "../tenant-data/sql";

/** The columns of a consent record that answers show. */
export const consentProjection = (t: Schema) => ({
  id: t.userConsents.id,
  policy: t.userConsents.policy,
  version: t.userConsents.version,
  decision: t.userConsents.decision,
  tenantId: t.userConsents.tenantId,
  source: t.userConsents.source,
  createdAt: t.userConsents.createdAt,
});

export type ConsentRow = Pick<
  Schema["userConsents"]["$inferSelect"],
  keyof ReturnType<typeof consentProjection>
>;

export function consentView(r: ConsentRow) {
  return {
    id: r.id,
    policy: r.policy,
    version: r.version,
    decision: r.decision,
    tenantId: r.tenantId,
    source: r.source,
    createdAt: r.createdAt.toISOString(),
  };
}

/** Insert of a consent record with who, where from and in which request (for a batch with its event). */
export function insertConsent(
  db: Db,
  t: Schema,
  row: ConsentRow & {
    userId: string;
    ipHash: string | null;
    userAgentHash: string | null;
    requestId: string;
  },
): Query {
  return db.insert(t.userConsents).values({ ...row, scopeId: scopeIdOf(row.tenantId) });
}

/**
 * "No newer record of the same (user, scope, policy)": latest per policy. NOT EXISTS rather
 * than max(id): Postgres has no max() for uuid. Served by user_consents_scope_idx.
 */
function isLatest(db: Db, t: Schema) {
  const uc = t.userConsents;
  const newer = aliasedTable(uc, "newer");
  return notExists(
    db
      .select({ one: sql`1` })
      .from(newer)
      .where(
        and(
          eq(newer.userId, uc.userId),
          eq(newer.scopeId, uc.scopeId),
          eq(newer.policy, uc.policy),
          gt(newer.id, uc.id),
        ),
      ),
  );
}

/** The newest record per policy of `userId` in one scope, by policy name. */
export function listLatestConsents(
  { db, t }: Database,
  userId: string,
  tenantId: string | null,
): Promise<ConsentRow[]> {
  const uc = t.userConsents;
  return db
    .select(consentProjection(t))
    .from(uc)
    .where(and(eq(uc.userId, userId), eq(uc.scopeId, scopeIdOf(tenantId)), isLatest(db, t)))
    .orderBy(asc(uc.policy));
}

/**
 * A member's latest record per policy for a tenant's service, in `tenantId` and global (global
 * first), or null when `userId` is not a member of `tenantId`. ONE statement: the records are
 * left-joined to the membership (see listMemberPreferences).
 */
export async function listMemberLatestConsents(
  { db, t }: Database,
  tenantId: string,
  userId: string,
): Promise<ConsentRow[] | null> {
  const m = t.tenantMemberships;
  const uc = t.userConsents;
  const rows = await db
    .select(consentProjection(t))
    .from(m)
    .leftJoin(
      uc,
      and(eq(uc.userId, m.userId), inArray(uc.scopeId, [scopeIdOf(null), tenantId]), isLatest(db, t)),
    )
    .where(and(eq(m.tenantId, tenantId), eq(m.userId, userId)))
    .orderBy(asc(uc.scopeId), asc(uc.policy));
  if (rows.length === 0) return null;
  return rows.filter((r): r is ConsentRow => r.id !== null);
}

/**
 * One page of `userId`'s records in one scope (of one policy, when given), newest first, after
 * `cursor`. Fetches `limit + 1` rows: the extra one tells whether another page exists.
 */
export function listConsentHistory(
  { db, t }: Database,
  q: {
    userId: string;
    tenantId: string | null;
    policy?: string | undefined;
    cursor?: string | undefined;
    limit: number;
  },
): Promise<ConsentRow[]> {
  const uc = t.userConsents;
  return db
    .select(consentProjection(t))
    .from(uc)
    .where(
      and(
        eq(uc.userId, q.userId),
        eq(uc.scopeId, scopeIdOf(q.tenantId)),
        q.policy ? eq(uc.policy, q.policy) : undefined,
        q.cursor ? lt(uc.id, q.cursor) : undefined,
      ),
    )
    .orderBy(desc(uc.id))
    .limit(q.limit + 1);
}

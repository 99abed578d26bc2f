/**
 * Notification preferences: one row per (user, scope, channel, category), written with a single
 * atomic upsert, so any number of concurrent writes of one key leave exactly one row holding one
 * of the written values, in the global scope as much as in a tenant's (see tenant-data/sql.ts
 * for why the key uses scope_id).
 */
import { and, asc, eq, inArray } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import type { Database, Schema } from "../../db/database";
import { excluded, isMember, rowWhere, scopeIdOf } from "../tenant-data/sql";

/** The columns of a preference that answers show. */
const preferenceProjection = (t: Schema) => ({
  tenantId: t.userNotificationPreferences.tenantId,
  channel: t.userNotificationPreferences.channel,
  category: t.userNotificationPreferences.category,
  enabled: t.userNotificationPreferences.enabled,
  updatedAt: t.userNotificationPreferences.updatedAt,
});

export type PreferenceRow = Pick<
  Schema["userNotificationPreferences"]["$inferSelect"],
  keyof ReturnType<typeof preferenceProjection>
>;

export function preferenceView(p: PreferenceRow) {
  return {
    tenantId: p.tenantId,
    channel: p.channel,
    category: p.category,
    enabled: p.enabled,
    updatedAt: p.updatedAt.toISOString(),
  };
}

/** `userId`'s preferences in one scope, by channel and category. */
export function listPreferences(
  { db, t }: Database,
  userId: string,
  tenantId: string | null,
): Promise<PreferenceRow[]> {
  const p = t.userNotificationPreferences;
  return db
    .select(preferenceProjection(t))
    .from(p)
    .where(and(eq(p.userId, userId), eq(p.scopeId, scopeIdOf(tenantId))))
    .orderBy(asc(p.channel), asc(p.category));
}

/**
 * Sets one preference in ONE statement: a plain upsert globally; in a tenant scope the row comes
 * from `SELECT … FROM tenant_memberships WHERE member`, so a non-member (or an unknown tenant)
 * inserts nothing and gets null, with no gap between the membership check and the write.
 */
export async function upsertPreference(
  { db, t }: Database,
  userId: string,
  pref: Omit<PreferenceRow, "updatedAt">,
  now: Date,
  /** The session's assurance level: a tenant with `requireMfa` admits aal 2 only. */
  aal: number,
): Promise<PreferenceRow | null> {
  const p = t.userNotificationPreferences;
  const { tenantId } = pref;
  const row = { ...pref, id: uuidv7(), userId, scopeId: scopeIdOf(tenantId), createdAt: now, updatedAt: now };
  const insert = db.insert(p);
  const [saved] = await (tenantId
    ? insert.select(rowWhere(p, row, t.tenantMemberships, isMember(t, tenantId, userId, aal)))
    : insert.values(row)
  )
    .onConflictDoUpdate({
      target: [p.userId, p.scopeId, p.channel, p.category],
      set: { enabled: excluded(p.enabled), updatedAt: excluded(p.updatedAt) },
    })
    .returning(preferenceProjection(t));
  return saved ?? null;
}

/**
 * A member's preferences for a tenant's service: their rows in `tenantId` and their global rows
 * (global first), or null when `userId` is not a member of `tenantId`. ONE statement: the rows
 * are left-joined to the membership, so no membership means no row at all, and a member
 * without preferences is one row of nulls.
 */
export async function listMemberPreferences(
  { db, t }: Database,
  tenantId: string,
  userId: string,
): Promise<PreferenceRow[] | null> {
  const m = t.tenantMemberships;
  const p = t.userNotificationPreferences;
  const rows = await db
    .select(preferenceProjection(t))
    .from(m)
    .leftJoin(p, and(eq(p.userId, m.userId), inArray(p.scopeId, [scopeIdOf(null), tenantId])))
    .where(and(eq(m.tenantId, tenantId), eq(m.userId, userId)))
    .orderBy(asc(p.scopeId), asc(p.channel), asc(p.category));
  if (rows.length === 0) return null;
  return rows.filter((r): r is PreferenceRow => r.channel !== null);
}

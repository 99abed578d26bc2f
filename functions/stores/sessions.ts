/**
 * Sessions: opaque random bearer tokens, of which only the SHA-256 is stored. A session has an
 * idle expiry (pushed forward on use) and an absolute one (fixed at sign-in), and an assurance
 * level (aal 1: password; aal 2: password plus a second factor).
 */
import { and, desc, eq, gt, isNull, ne, notExists } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";
import type { Config } from "../config";
import type { AuthState } from "../context";
import { sha256Hex } from "../lib/tokens";
import { rowWhere } from "../tenant-data/sql";

export type SessionInsert = Schema["userSessions"]["$inferInsert"];

/** Bearer tokens we issue: 32 random bytes, base64url. Anything else is refused before a lookup. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export const earliest = (a: Date, b: Date) => (a.getTime() <= b.getTime() ? a : b);

const sessionProjection = (t: Schema) => ({
  id: t.userSessions.id,
  userId: t.userSessions.userId,
  aal: t.userSessions.aal,
  createdAt: t.userSessions.createdAt,
  lastSeenAt: t.userSessions.lastSeenAt,
  expiresAt: t.userSessions.expiresAt,
  absoluteExpiresAt: t.userSessions.absoluteExpiresAt,
  authenticatedAt: t.userSessions.authenticatedAt,
});

/** Live: not revoked, not expired. */
const live = (t: Schema, now: Date) =>
  and(isNull(t.userSessions.revokedAt), gt(t.userSessions.expiresAt, now));

/**
 * Resolves a bearer token to its live session in one statement; null when unknown, revoked or
 * expired. Pushes the idle expiry forward at most once per `touchIntervalMs`, so a busy client
 * does not cost a write per request.
 */
export async function findLiveSession(
  { db, t }: Database,
  lifetimes: Config["session"],
  token: string,
  now: Date,
): Promise<AuthState | null> {
  if (!TOKEN_SHAPE.test(token)) return null;
  const s = t.userSessions;
  const [row] = await db
    .select(sessionProjection(t))
    .from(s)
    .where(and(eq(s.tokenHash, await sha256Hex(token)), live(t, now)))
    .limit(1);
  if (!row) return null;
  let expiresAt = row.expiresAt;
  if (now.getTime() - row.lastSeenAt.getTime() >= lifetimes.touchIntervalMs) {
    expiresAt = earliest(new Date(now.getTime() + lifetimes.idleTtlMs), row.absoluteExpiresAt);
    await db.update(s).set({ lastSeenAt: now, expiresAt }).where(eq(s.id, row.id));
  }
  return {
    userId: row.userId,
    sessionId: row.id,
    aal: row.aal,
    expiresAt,
    authenticatedAt: row.authenticatedAt ?? row.createdAt,
  };
}

/** The user's live sessions, newest first. */
export function listLiveSessions({ db, t }: Database, userId: string, now: Date) {
  const s = t.userSessions;
  return db
    .select(sessionProjection(t))
    .from(s)
    .where(and(eq(s.userId, userId), live(t, now)))
    .orderBy(desc(s.id));
}

/** Revokes the user's live session `id`; false when there is none (unknown, another user's, dead). */
export async function revokeOwnSession({ db, t }: Database, userId: string, id: string, now: Date) {
  const s = t.userSessions;
  const revoked = await db
    .update(s)
    .set({ revokedAt: now })
    .where(and(eq(s.id, id), eq(s.userId, userId), live(t, now)))
    .returning({ id: s.id });
  return revoked.length === 1;
}

/** Insert of a prepared session row (for a batch). */
export function insertSession(db: Db, t: Schema, row: SessionInsert): Query {
  return db.insert(t.userSessions).values(row);
}

/**
 * Insert of a password-only (aal 1) session that happens only while the user has no verified
 * factor, decided in the same statement (`INSERT … SELECT … WHERE NOT EXISTS`): a login that
 * races the verification of the first factor never keeps a session the factor should gate.
 * Returns the id when inserted (for a batch; the caller checks it).
 */
export function insertSessionUnlessFactor(db: Db, t: Schema, row: SessionInsert) {
  const f = t.userMfaMethods;
  const noFactor = notExists(
    db
      .select({ id: f.id })
      .from(f)
      .where(and(eq(f.userId, row.userId), eq(f.status, "verified"))),
  );
  return db
    .insert(t.userSessions)
    .select(rowWhere(t.userSessions, row, t.users, and(eq(t.users.id, row.userId), noFactor)))
    .returning({ id: t.userSessions.id });
}

/** Marks the session as just authenticated (a password or second factor was checked for it). */
export async function markAuthenticated({ db, t }: Database, id: string, now: Date): Promise<void> {
  await db.update(t.userSessions).set({ authenticatedAt: now }).where(eq(t.userSessions.id, id));
}

/** Revokes one session (for a batch). */
export function revokeSessionById(db: Db, t: Schema, id: string, now: Date): Query {
  return db.update(t.userSessions).set({ revokedAt: now }).where(eq(t.userSessions.id, id));
}

/** Raises one session to aal 2, just authenticated by its second factor (for a batch). */
export function raiseSessionToAal2(db: Db, t: Schema, id: string, now: Date): Query {
  return db.update(t.userSessions).set({ aal: 2, authenticatedAt: now }).where(eq(t.userSessions.id, id));
}

/** Revokes every live session of `userId` except `keepSessionId` (for a batch). */
export function revokeOtherSessions(
  db: Db,
  t: Schema,
  userId: string,
  now: Date,
  keepSessionId: string | null,
): Query {
  const s = t.userSessions;
  const others = keepSessionId
    ? and(eq(s.userId, userId), isNull(s.revokedAt), ne(s.id, keepSessionId))
    : and(eq(s.userId, userId), isNull(s.revokedAt));
  return db.update(s).set({ revokedAt: now }).where(others);
}

/**
 * Introspection of a bearer token for a tenant's service (RFC 7662 style), in ONE statement:
 * the live session with the user's role in `tenantId` (null for a non-member). A pure read: it
 * never touches `last_seen_at` or the expiry, so introspection does not keep a session alive.
 */
export async function introspectSession(
  { db, t }: Database,
  token: string,
  tenantId: string,
  now: Date,
): Promise<{ userId: string; sessionId: string; aal: number; expiresAt: Date; role: string | null } | null> {
  if (!TOKEN_SHAPE.test(token)) return null;
  const s = t.userSessions;
  const m = t.tenantMemberships;
  const [row] = await db
    .select({ sessionId: s.id, userId: s.userId, aal: s.aal, expiresAt: s.expiresAt, role: m.role })
    .from(s)
    .leftJoin(m, and(eq(m.userId, s.userId), eq(m.tenantId, tenantId)))
    .where(and(eq(s.tokenHash, await sha256Hex(token)), live(t, now)))
    .limit(1);
  return row ?? null;
}

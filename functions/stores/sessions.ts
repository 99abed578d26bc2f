/**
 * Sessions: opaque random bearer tokens, of which only the SHA-256 is stored. A session has an
 * idle expiry (pushed forward on use) and an absolute one (fixed at sign-in), and an assurance
 * level (aal 1: password; aal 2: password plus a second factor).
 */
import { and, desc, eq, gt, isNull, ne, notExists, type SQL, sql } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";
import type { Config } from "../config";
import type { AuthState } from "../context";
import { sha256Hex } from "../lib/tokens";
import { rowWhere } from "../tenant-data/sql";
import { isLiveUser } from "./users";

export type SessionInsert = Schema["userSessions"]["$inferInsert"];

/** Bearer tokens we issue: 32 random bytes, base64url. Anything else is refused before a lookup. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** True when `token` has the shape of a token we issue (anything else cannot name a session). */
export const isTokenShaped = (token: string) => TOKEN_SHAPE.test(token);

export const earliest = (a: Date, b: Date) => (a.getTime() <= b.getTime() ? a : b);

/** The columns of a session that answers show (never the token hash). */
export const sessionProjection = (t: Schema) => ({
  id: t.userSessions.id,
  userId: t.userSessions.userId,
  aal: t.userSessions.aal,
  createdAt: t.userSessions.createdAt,
  lastSeenAt: t.userSessions.lastSeenAt,
  expiresAt: t.userSessions.expiresAt,
  absoluteExpiresAt: t.userSessions.absoluteExpiresAt,
  authenticatedAt: t.userSessions.authenticatedAt,
});

/** A session as `sessionProjection` reads it. */
export interface SessionRow {
  id: string;
  userId: string;
  aal: number;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  absoluteExpiresAt: Date;
  authenticatedAt: Date | null;
}

/** A session as answers show it (the session list, the export); `current`: the caller's own. */
export function sessionView(
  r: Pick<SessionRow, "id" | "aal" | "createdAt" | "lastSeenAt" | "expiresAt" | "authenticatedAt">,
  currentSessionId: string | null,
) {
  return {
    id: r.id,
    aal: r.aal,
    createdAt: r.createdAt.toISOString(),
    lastSeenAt: r.lastSeenAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    // No recorded sign-in time: the session signed in when it was created.
    authenticatedAt: (r.authenticatedAt ?? r.createdAt).toISOString(),
    current: r.id === currentSessionId,
  };
}

/** Live: not revoked, not expired. */
const live = (t: Schema, now: Date) =>
  and(isNull(t.userSessions.revokedAt), gt(t.userSessions.expiresAt, now));

/** What a request's lookup saw of its live session: enough to push the idle expiry forward when due. */
export interface SessionSighting {
  id: string;
  lastSeenAt: Date;
  absoluteExpiresAt: Date;
}

/**
 * The new idle expiry when a session seen at `now` is due a touch (its last one is at least
 * `touchIntervalMs` old), else null: a busy client does not cost a write per request.
 */
export function touchDue(seen: SessionSighting, lifetimes: Config["session"], now: Date): Date | null {
  if (now.getTime() - seen.lastSeenAt.getTime() < lifetimes.touchIntervalMs) return null;
  return earliest(new Date(now.getTime() + lifetimes.idleTtlMs), seen.absoluteExpiresAt);
}

/** Pushes the idle expiry forward (see touchDue). */
export async function touchSession(
  { db, t }: Database,
  id: string,
  now: Date,
  expiresAt: Date,
): Promise<void> {
  await db.update(t.userSessions).set({ lastSeenAt: now, expiresAt }).where(eq(t.userSessions.id, id));
}

/**
 * Resolves a bearer token to its live session in one statement; null when unknown, revoked or
 * expired. Pushes the idle expiry forward at most once per `touchIntervalMs` (a second
 * statement, see touchDue).
 */
export async function findLiveSession(
  database: Database,
  lifetimes: Config["session"],
  token: string,
  now: Date,
): Promise<AuthState | null> {
  if (!TOKEN_SHAPE.test(token)) return null;
  const { db, t } = database;
  const s = t.userSessions;
  // The account's verification state comes along (a left join: same rows), so routes gated on
  // a verified address need no statement of their own (auth/verification.ts).
  const [row] = await db
    .select({ ...sessionProjection(t), emailVerifiedAt: t.users.emailVerifiedAt })
    .from(s)
    .leftJoin(t.users, eq(t.users.id, s.userId))
    .where(and(eq(s.tokenHash, await sha256Hex(token)), live(t, now)))
    .limit(1);
  if (!row) return null;
  const touched = touchDue(row, lifetimes, now);
  if (touched) await touchSession(database, row.id, now, touched);
  return { ...authState(row, touched ?? row.expiresAt), emailVerified: row.emailVerifiedAt !== null };
}

/** The request's auth state from a session row (and its expiry, after a touch). */
export function authState(
  row: { id: string; userId: string; aal: number; createdAt: Date; authenticatedAt: Date | null },
  expiresAt: Date,
): AuthState {
  return {
    userId: row.userId,
    sessionId: row.id,
    aal: row.aal,
    expiresAt,
    authenticatedAt: row.authenticatedAt ?? row.createdAt,
  };
}

/**
 * The live session of a presented token hash, as SQL pieces that go INTO the statement that
 * reads or writes (a "folded" session check, http/route.ts): `live` conditions the sessions
 * table; `userId` and `aal` are scalar subqueries (null when no live session has the token, so a
 * write selected from them writes nothing); `sighting` are RETURNING/select columns.
 */
export function sessionOfToken(t: Schema, tokenHash: string, now: Date) {
  const s = t.userSessions;
  const where = and(eq(s.tokenHash, tokenHash), live(t, now));
  const scalar = (column: typeof s.id | typeof s.userId | typeof s.aal | typeof s.lastSeenAt) =>
    sql`(select ${column} from ${s} where ${where})`;
  return {
    live: where as SQL,
    userId: scalar(s.userId),
    aal: scalar(s.aal),
    sighting: {
      sessionId: scalar(s.id).mapWith(String),
      lastSeenAt: scalar(s.lastSeenAt).mapWith(s.lastSeenAt),
      absoluteExpiresAt: sql`(select ${s.absoluteExpiresAt} from ${s} where ${where})`.mapWith(
        s.absoluteExpiresAt,
      ),
    },
  };
}

export type SessionOfToken = ReturnType<typeof sessionOfToken>;

/** The sighting columns read back (null when the statement found no live session). */
export function sightingOf(row: {
  sessionId: string | null;
  lastSeenAt: Date | null;
  absoluteExpiresAt: Date | null;
}): SessionSighting | null {
  if (row.sessionId === null || row.lastSeenAt === null || row.absoluteExpiresAt === null) return null;
  return { id: row.sessionId, lastSeenAt: row.lastSeenAt, absoluteExpiresAt: row.absoluteExpiresAt };
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

/**
 * Insert of a prepared session row (for a batch), made only while its user is a live account
 * (same statement): a sign-in that races the account's deletion leaves no session behind.
 */
export function insertSession(db: Db, t: Schema, row: SessionInsert): Query {
  return db
    .insert(t.userSessions)
    .select(rowWhere(t.userSessions, row, t.users, and(eq(t.users.id, row.userId), isLiveUser(t))));
}

/**
 * Insert of a password-only (aal 1) session that happens only while the user has no verified
 * factor, decided in the same statement (`INSERT … SELECT … WHERE NOT EXISTS`): a login that
 * races the verification of the first factor never keeps a session the factor should gate, and
 * one that races the account's deletion (a tombstone has no factor left) gets none either.
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
    .select(rowWhere(t.userSessions, row, t.users, and(eq(t.users.id, row.userId), isLiveUser(t), noFactor)))
    .returning({ id: t.userSessions.id });
}

/**
 * Insert of a prepared session row (for a batch) made only while its user is a live account and
 * `when` holds (same statement); returns the id when inserted. Later statements of the batch
 * condition on `sessionWasInserted` to follow it.
 */
export function insertSessionWhen(db: Db, t: Schema, row: SessionInsert, when: SQL) {
  return db
    .insert(t.userSessions)
    .select(rowWhere(t.userSessions, row, t.users, and(eq(t.users.id, row.userId), isLiveUser(t), when)))
    .returning({ id: t.userSessions.id });
}

/** "Session `id` exists" (in a batch: it was inserted by a statement before). */
export function sessionWasInserted(t: Schema, id: string): SQL {
  const s = t.userSessions;
  return sql`exists (select 1 from ${s} where ${eq(s.id, id)})`;
}

/** Marks the session as just authenticated (a password or second factor was checked for it; for a batch). */
export function markSessionAuthenticated(db: Db, t: Schema, id: string, now: Date): Query {
  return db.update(t.userSessions).set({ authenticatedAt: now }).where(eq(t.userSessions.id, id));
}

/** Revokes one session (for a batch). */
export function revokeSessionById(db: Db, t: Schema, id: string, now: Date): Query {
  return db.update(t.userSessions).set({ revokedAt: now }).where(eq(t.userSessions.id, id));
}

/** Raises one session to aal 2, just authenticated by its second factor (for a batch). */
export function raiseSessionToAal2(db: Db, t: Schema, id: string, now: Date, when?: SQL): Query {
  return db
    .update(t.userSessions)
    .set({ aal: 2, authenticatedAt: now })
    .where(and(eq(t.userSessions.id, id), when));
}

/** Revokes every live session of `userId` except `keepSessionId` (for a batch), when `when` holds. */
export function revokeOtherSessions(
  db: Db,
  t: Schema,
  userId: string,
  now: Date,
  keepSessionId: string | null,
  when?: SQL,
): Query {
  const s = t.userSessions;
  const others = and(
    eq(s.userId, userId),
    isNull(s.revokedAt),
    keepSessionId ? ne(s.id, keepSessionId) : undefined,
  );
  return db.update(s).set({ revokedAt: now }).where(and(others, when));
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

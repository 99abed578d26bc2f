/**
 * Sessions: opaque random bearer tokens (256 bits), of which only the SHA-256 is stored. A
 * session has an idle expiry (pushed forward on use) and an absolute one (fixed at sign-in),
 * and an assurance level (aal 1: password; aal 2: password plus a second factor).
 */
import { and, eq, gt, isNull, ne } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import type { Database, Db, Query, Schema } from "../../db/database";
import type { Config } from "../config";
import type { AppContext, AuthState } from "../context";
import { generateToken, sha256Hex } from "../lib/tokens";

export interface IssuedSession {
  token: string;
  id: string;
  aal: number;
  expiresAt: string;
}

/** Bearer tokens we issue: 32 random bytes, base64url. Anything else is refused before a lookup. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

const earliest = (a: Date, b: Date) => (a.getTime() <= b.getTime() ? a : b);

/**
 * Prepares a new session: the row (to insert in an atomic batch with what it accompanies) and
 * the answer that shows the token, once.
 */
export async function prepareSession(
  c: AppContext,
  userId: string,
  aal: 1 | 2,
): Promise<{ row: Schema["userSessions"]["$inferInsert"]; session: IssuedSession }> {
  const { session: lifetimes } = c.var.config;
  const now = c.var.now;
  const token = generateToken();
  const id = uuidv7();
  const absoluteExpiresAt = new Date(now.getTime() + lifetimes.absoluteTtlMs);
  const expiresAt = earliest(new Date(now.getTime() + lifetimes.idleTtlMs), absoluteExpiresAt);
  const { ipHash, userAgentHash } = await c.var.client.hashes();
  const row = {
    id,
    userId,
    tokenHash: await sha256Hex(token),
    aal,
    createdAt: now,
    lastSeenAt: now,
    expiresAt,
    absoluteExpiresAt,
    ipHash,
    userAgentHash,
  };
  return { row, session: { token, id, aal, expiresAt: expiresAt.toISOString() } };
}

/**
 * Resolves a bearer token to its live session in one statement; null when unknown, revoked or
 * expired. Pushes the idle expiry forward at most once per `touchIntervalMs`, so a busy client
 * does not cost a write per request.
 */
export async function validateSessionToken(
  database: Database,
  config: Config,
  token: string,
  now: Date,
): Promise<AuthState | null> {
  if (!TOKEN_SHAPE.test(token)) return null;
  const { db, t } = database;
  const s = t.userSessions;
  const [row] = await db
    .select({
      id: s.id,
      userId: s.userId,
      aal: s.aal,
      lastSeenAt: s.lastSeenAt,
      expiresAt: s.expiresAt,
      absoluteExpiresAt: s.absoluteExpiresAt,
    })
    .from(s)
    .where(and(eq(s.tokenHash, await sha256Hex(token)), isNull(s.revokedAt), gt(s.expiresAt, now)))
    .limit(1);
  if (!row) return null;
  let expiresAt = row.expiresAt;
  if (now.getTime() - row.lastSeenAt.getTime() >= config.session.touchIntervalMs) {
    expiresAt = earliest(new Date(now.getTime() + config.session.idleTtlMs), row.absoluteExpiresAt);
    await db.update(s).set({ lastSeenAt: now, expiresAt }).where(eq(s.id, row.id));
  }
  return { userId: row.userId, sessionId: row.id, aal: row.aal, expiresAt };
}

/** Revokes every live session of `userId` except `keepSessionId` (a query on `db`, for batches). */
export function revokeSessions(
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

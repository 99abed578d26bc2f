/**
 * Passkeys: the WebAuthn credential of each `webauthn` factor, and the single-use challenges
 * handed to browsers. A challenge is stored only as a keyed hash and is consumed by the
 * statement that finds it (`UPDATE … WHERE consumed_at IS NULL … RETURNING`), so however many
 * requests race on one challenge, one gets it.
 */
import { and, asc, eq, gt, isNull, lt, type SQL } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";

export type CredentialInsert = Schema["webauthnCredentials"]["$inferInsert"];
export type WebauthnChallengeInsert = Schema["webauthnChallenges"]["$inferInsert"];
export type WebauthnPurpose = WebauthnChallengeInsert["purpose"];

/** A stored credential with its factor's owner, to verify an assertion with. */
export interface StoredCredential {
  factorId: string;
  userId: string;
  credentialId: string;
  publicKey: string;
  signCount: number;
  transports: string[] | null;
}

/** Insert of a new challenge row (its hash, never the challenge). */
export async function insertWebauthnChallenge({ db, t }: Database, row: WebauthnChallengeInsert) {
  await db.insert(t.webauthnChallenges).values(row);
}

/**
 * Consumes the live challenge with this hash, purpose and binding (and user and id when given):
 * one compare-and-set, so a challenge is used once. Null when there is no such live challenge
 * (unknown, expired, already used, or issued for another flow, user or binding).
 */
export async function consumeWebauthnChallenge(
  { db, t }: Database,
  match: {
    challengeHash: string;
    purpose: WebauthnPurpose;
    userId?: string | null;
    binding?: string | null;
    id?: string;
  },
  now: Date,
): Promise<{ id: string; userId: string | null } | null> {
  const c = t.webauthnChallenges;
  const conditions: SQL[] = [
    eq(c.challengeHash, match.challengeHash),
    eq(c.purpose, match.purpose),
    isNull(c.consumedAt),
    gt(c.expiresAt, now),
  ];
  if (match.userId !== undefined) {
    conditions.push(match.userId === null ? isNull(c.userId) : eq(c.userId, match.userId));
  }
  if (match.binding !== undefined) {
    conditions.push(match.binding === null ? isNull(c.binding) : eq(c.binding, match.binding));
  }
  if (match.id !== undefined) conditions.push(eq(c.id, match.id));
  const [row] = await db
    .update(c)
    .set({ consumedAt: now })
    .where(and(...conditions))
    .returning({ id: c.id, userId: c.userId });
  return row ?? null;
}

/** The credential with this id, if it belongs to a verified factor. */
export async function findCredential(
  { db, t }: Database,
  credentialId: string,
): Promise<StoredCredential | null> {
  const w = t.webauthnCredentials;
  const f = t.userMfaMethods;
  const [row] = await db
    .select({
      factorId: w.factorId,
      userId: w.userId,
      credentialId: w.credentialId,
      publicKey: w.publicKey,
      signCount: w.signCount,
      transports: w.transports,
    })
    .from(w)
    .innerJoin(f, eq(f.id, w.factorId))
    .where(and(eq(w.credentialId, credentialId), eq(f.status, "verified")));
  return row ? { ...row, transports: (row.transports as string[] | null) ?? null } : null;
}

/** Whether any account holds a credential with this id (a credential id belongs to one user). */
export async function credentialExists({ db, t }: Database, credentialId: string): Promise<boolean> {
  const w = t.webauthnCredentials;
  const rows = await db.select({ id: w.factorId }).from(w).where(eq(w.credentialId, credentialId)).limit(1);
  return rows.length > 0;
}

/** The ids and transports of the user's passkeys, oldest first (allow/exclude lists). */
export async function listUserCredentials({ db, t }: Database, userId: string) {
  const w = t.webauthnCredentials;
  const rows = await db
    .select({ id: w.credentialId, transports: w.transports })
    .from(w)
    .where(eq(w.userId, userId))
    .orderBy(asc(w.createdAt));
  return rows.map((r) => ({ id: r.id, transports: (r.transports as string[] | null) ?? undefined }));
}

/** Insert of a credential (for the batch that inserts its factor, after it). */
export function insertCredential(db: Db, t: Schema, row: CredentialInsert): Query {
  return db.insert(t.webauthnCredentials).values(row);
}

/**
 * Records `signCount` as the credential's counter when it grows (or both stay zero: an
 * authenticator without a counter). A compare-and-set: of two requests presenting the same
 * counter value, one wins. False: the counter did not grow (a cloned authenticator, or a replay).
 */
export async function advanceSignCount(
  { db, t }: Database,
  factorId: string,
  signCount: number,
  now: Date,
): Promise<boolean> {
  const w = t.webauthnCredentials;
  const grows = signCount === 0 ? eq(w.signCount, 0) : lt(w.signCount, signCount);
  const won = await db
    .update(w)
    .set({ signCount })
    .where(and(eq(w.factorId, factorId), grows))
    .returning({ id: w.factorId });
  if (won.length !== 1) return false;
  const f = t.userMfaMethods;
  await db.update(f).set({ lastUsedAt: now }).where(eq(f.id, factorId));
  return true;
}

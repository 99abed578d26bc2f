/**
 * MFA challenges: the single-use, short-lived second step of a password login. A challenge is
 * live until it is consumed, expires, or has collected the configured number of wrong codes.
 */
import { and, eq, gt, isNull, lt, sql } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";

export type ChallengeInsert = Schema["mfaChallenges"]["$inferInsert"];

/** Insert of a new challenge row (for a batch). */
export function insertChallenge(db: Db, t: Schema, row: ChallengeInsert): Query {
  return db.insert(t.mfaChallenges).values(row);
}

/** The unconsumed, unexpired challenge with this token hash, with its failed attempts so far; or null. */
export async function findOpenChallenge({ db, t }: Database, tokenHash: string, now: Date) {
  const ch = t.mfaChallenges;
  const [row] = await db
    .select({ id: ch.id, userId: ch.userId, failedAttempts: ch.failedAttempts })
    .from(ch)
    .where(and(eq(ch.tokenHash, tokenHash), isNull(ch.consumedAt), gt(ch.expiresAt, now)));
  return row ?? null;
}

/** Counts one wrong code against the challenge (an increment in SQL, so concurrent failures all count). */
export async function countChallengeFailure({ db, t }: Database, id: string): Promise<void> {
  const ch = t.mfaChallenges;
  await db
    .update(ch)
    .set({ failedAttempts: sql`${ch.failedAttempts} + 1` })
    .where(eq(ch.id, id));
}

/**
 * Consumes the challenge unless it was consumed or collected `maxFailures` wrong codes since it
 * was read: a compare-and-set, so of requests racing on one challenge only one gets true.
 */
export async function consumeChallenge({ db, t }: Database, id: string, now: Date, maxFailures: number) {
  const ch = t.mfaChallenges;
  const consumed = await db
    .update(ch)
    .set({ consumedAt: now })
    .where(and(eq(ch.id, id), isNull(ch.consumedAt), lt(ch.failedAttempts, maxFailures)))
    .returning({ id: ch.id });
  return consumed.length === 1;
}

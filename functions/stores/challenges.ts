/**
 * MFA challenges: the single-use, short-lived second step of a password login. A challenge is
 * live until it is consumed, expires, or has had the configured number of attempts (the column
 * `failed_attempts` counts every attempt before its code is checked; a right one consumes it).
 */
import { and, eq, gt, isNull, lt, type SQL, sql } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";
import { rowWhere } from "../tenant-data/sql";
import { type SealedFactor, sealedFactors, verifiedFactorSecrets } from "./factors";
import { isLiveUser, selectUser, type UserRow } from "./users";

export type ChallengeInsert = Schema["mfaChallenges"]["$inferInsert"];

/**
 * Insert of a new challenge row (for a batch), made only while its user is a live account (same
 * statement); returns the id when inserted, so a login racing the account's deletion gets none.
 */
export function insertChallenge(db: Db, t: Schema, row: ChallengeInsert) {
  return db
    .insert(t.mfaChallenges)
    .select(
      // Every column is given: `insert … select` writes null, not the default, for one left out.
      rowWhere(
        t.mfaChallenges,
        { failedAttempts: 0, consumedAt: null, ...row },
        t.users,
        and(eq(t.users.id, row.userId), isLiveUser(t)),
      ),
    )
    .returning({ id: t.mfaChallenges.id });
}

/**
 * Claims one attempt on the open challenge with this token hash: ONE statement that finds it
 * and counts the attempt only while it is unconsumed, unexpired and under `maxAttempts`, so
 * however many requests race on one challenge, at most `maxAttempts` codes are ever checked
 * (the count is taken before the code is looked at). In the same round trip (one batch) it
 * reads the challenge's user and the sealed secrets of its verified TOTP factors, which
 * answering the challenge needs next. Null: no such live challenge.
 */
export async function claimChallengeWithUser(
  database: Database,
  tokenHash: string,
  now: Date,
  maxAttempts: number,
): Promise<{
  challenge: { id: string; userId: string };
  user: UserRow | null;
  factors: SealedFactor[];
} | null> {
  const { t } = database;
  const userId = challengeUserId(t, tokenHash);
  const [claimed, users, factors] = await database.atomic((db) => [
    claimAttempt(db, t, tokenHash, now, maxAttempts),
    selectUser(db, t, userId),
    verifiedFactorSecrets(db, t, userId),
  ]);
  const [challenge] = claimed;
  if (!challenge) return null;
  return { challenge, user: users[0] ?? null, factors: sealedFactors(factors) };
}

/** "The challenge with this token hash is live": not consumed, not expired, attempts left. */
function isLiveChallenge(t: Schema, tokenHash: string, now: Date, maxAttempts: number): SQL | undefined {
  const ch = t.mfaChallenges;
  return and(
    eq(ch.tokenHash, tokenHash),
    isNull(ch.consumedAt),
    gt(ch.expiresAt, now),
    lt(ch.failedAttempts, maxAttempts),
  );
}

/** The claim of one attempt (see claimChallengeWithUser), as a query for a batch: the id and user when claimed. */
export function claimAttempt(db: Db, t: Schema, tokenHash: string, now: Date, maxAttempts: number) {
  const ch = t.mfaChallenges;
  return db
    .update(ch)
    .set({ failedAttempts: sql`${ch.failedAttempts} + 1` })
    .where(isLiveChallenge(t, tokenHash, now, maxAttempts))
    .returning({ id: ch.id, userId: ch.userId });
}

/**
 * The user of the challenge with this token hash, as a scalar subquery, so reads of that user
 * can share a batch with the claim (their rows are used only when the claim succeeded).
 */
export function challengeUserId(t: Schema, tokenHash: string): SQL {
  const ch = t.mfaChallenges;
  return sql`(select ${ch.userId} from ${ch} where ${eq(ch.tokenHash, tokenHash)})`;
}

/**
 * Takes the challenge's row lock for the rest of the batch (a no-op update): of batches racing
 * to consume one challenge, each sees the consumption the one before it committed. Returns when
 * it was consumed (null: still open) as it stands once the lock is held.
 */
export function lockChallenge(db: Db, t: Schema, id: string) {
  const ch = t.mfaChallenges;
  return db
    .update(ch)
    .set({ consumedAt: sql`${ch.consumedAt}` })
    .where(eq(ch.id, id))
    .returning({ consumedAt: ch.consumedAt });
}

/** "The challenge is not consumed" (for a batch under lockChallenge). */
export function challengeIsOpen(t: Schema, id: string): SQL {
  const ch = t.mfaChallenges;
  return sql`exists (select 1 from ${ch} where ${and(eq(ch.id, id), isNull(ch.consumedAt))})`;
}

/** Consumes the challenge (for a batch) when `when` holds, in the same statement. */
export function consumeChallengeWhen(db: Db, t: Schema, id: string, now: Date, when: SQL): Query {
  const ch = t.mfaChallenges;
  return db
    .update(ch)
    .set({ consumedAt: now })
    .where(and(eq(ch.id, id), isNull(ch.consumedAt), when));
}

/** The open challenge with this token hash (its id and user), without counting an attempt; null when none is live. */
export async function findLiveChallenge(
  { db, t }: Database,
  tokenHash: string,
  now: Date,
  maxAttempts: number,
): Promise<{ id: string; userId: string } | null> {
  const ch = t.mfaChallenges;
  const [row] = await db
    .select({ id: ch.id, userId: ch.userId })
    .from(ch)
    .where(isLiveChallenge(t, tokenHash, now, maxAttempts));
  return row ?? null;
}

/** Gives back an attempt that was never checked (the rate limiter refused or was down). */
export async function releaseChallengeAttempt({ db, t }: Database, id: string): Promise<void> {
  const ch = t.mfaChallenges;
  await db
    .update(ch)
    .set({ failedAttempts: sql`${ch.failedAttempts} - 1` })
    .where(and(eq(ch.id, id), gt(ch.failedAttempts, 0)));
}

/** Consumes the challenge: a compare-and-set, so of requests racing on one challenge only one gets true. */
export async function consumeChallenge({ db, t }: Database, id: string, now: Date) {
  const ch = t.mfaChallenges;
  const consumed = await db
    .update(ch)
    .set({ consumedAt: now })
    .where(and(eq(ch.id, id), isNull(ch.consumedAt)))
    .returning({ id: ch.id });
  return consumed.length === 1;
}

/** Consumes every open challenge of the user (for a batch: a completed reset ends them). */
export function consumeOpenChallenges(db: Db, t: Schema, userId: string, now: Date): Query {
  const ch = t.mfaChallenges;
  return db
    .update(ch)
    .set({ consumedAt: now })
    .where(and(eq(ch.userId, userId), isNull(ch.consumedAt)));
}

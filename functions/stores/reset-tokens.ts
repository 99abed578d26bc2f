/**
 * Password reset tokens: single use, short lived, stored as the SHA-256 of the token sent by
 * mail. A token is live until it is used or expires; a completed reset spends every other one.
 */
import { and, eq, gt, isNull } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";
import { rowWhere } from "../tenant-data/sql";
import { verifiedFactorCount } from "./factors";
import { isLiveUser, setPasswordHash, userProjection } from "./users";

export type ResetTokenInsert = Schema["passwordResetTokens"]["$inferInsert"];

/**
 * Insert of a new reset token (for a batch with the message that carries it), as
 * `INSERT … SELECT … FROM users WHERE id = :userId`: for an id no user has it writes nothing,
 * with the same work (forgot treats known and unknown emails alike).
 */
export function insertResetToken(db: Db, t: Schema, row: ResetTokenInsert): Query {
  return db
    .insert(t.passwordResetTokens)
    .select(rowWhere(t.passwordResetTokens, row, t.users, and(eq(t.users.id, row.userId), isLiveUser(t))));
}

/** The live token with this hash (its id and user), or null. */
export async function findLiveResetToken({ db, t }: Database, tokenHash: string, now: Date) {
  const r = t.passwordResetTokens;
  const [row] = await db
    .select({ id: r.id, userId: r.userId })
    .from(r)
    .where(and(eq(r.tokenHash, tokenHash), isNull(r.usedAt), gt(r.expiresAt, now)))
    .limit(1);
  return row ?? null;
}

/**
 * The live token with this hash (its id and user) with, in the same statement, its live user
 * and that user's verified factor count (user null when the account is gone), or null.
 */
export async function findLiveResetTokenWithUser({ db, t }: Database, tokenHash: string, now: Date) {
  const r = t.passwordResetTokens;
  const u = t.users;
  const [row] = await db
    .select({
      id: r.id,
      userId: r.userId,
      user: userProjection(t),
      verifiedFactors: verifiedFactorCount(t, r.userId),
    })
    .from(r)
    .leftJoin(u, and(eq(u.id, r.userId), isLiveUser(t)))
    .where(and(eq(r.tokenHash, tokenHash), isNull(r.usedAt), gt(r.expiresAt, now)))
    .limit(1);
  return row ?? null;
}

/** Spends the token: a compare-and-set, so of concurrent resets with one token only one gets true. */
export async function spendResetToken({ db, t }: Database, id: string, now: Date): Promise<boolean> {
  const r = t.passwordResetTokens;
  const spent = await db
    .update(r)
    .set({ usedAt: now })
    .where(and(eq(r.id, id), isNull(r.usedAt)))
    .returning({ id: r.id });
  return spent.length === 1;
}

/**
 * The writes of a completed reset (for the batch that issues the new session): the new password
 * hash, and every other outstanding token of the user spent.
 */
export function completeReset(
  db: Db,
  t: Schema,
  userId: string,
  passwordHash: string,
  now: Date,
): [Query, Query] {
  const r = t.passwordResetTokens;
  return [
    setPasswordHash(db, t, userId, passwordHash, now),
    db
      .update(r)
      .set({ usedAt: now })
      .where(and(eq(r.userId, userId), isNull(r.usedAt))),
  ];
}

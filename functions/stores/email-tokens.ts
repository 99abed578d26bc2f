/**
 * Email tokens: the links that prove an address (verification) or move an account to a new
 * one (email change). Stored as SHA-256 of the token; single use (compare-and-set on
 * `used_at`); 24 hours by default.
 */
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";
import { rowWhere } from "../tenant-data/sql";
import { isLiveUser, selectUser, type UserRow } from "./users";

export type EmailTokenPurpose = "verify_email" | "change_email";
export type EmailTokenInsert = Schema["emailTokens"]["$inferInsert"];

/**
 * Insert of a token (for a batch with the message that carries it), as `INSERT … SELECT … FROM
 * users WHERE id = :userId`: nothing is written when the user row does not exist (a
 * registration whose address was taken inserts no user, and so no token).
 */
export function insertEmailToken(db: Db, t: Schema, row: EmailTokenInsert): Query {
  return db
    .insert(t.emailTokens)
    .select(rowWhere(t.emailTokens, row, t.users, and(eq(t.users.id, row.userId), isLiveUser(t))));
}

/**
 * Spends the live token with this hash and purpose: one statement, so of concurrent uses only
 * one gets it. Returns its user and address, or null (unknown, used or expired).
 */
export async function spendEmailToken(
  { db, t }: Database,
  tokenHash: string,
  purpose: EmailTokenPurpose,
  now: Date,
): Promise<{ userId: string; email: string } | null> {
  const [row] = await spend(db, t, tokenHash, purpose, now);
  return row ?? null;
}

function spend(db: Db, t: Schema, tokenHash: string, purpose: EmailTokenPurpose, now: Date) {
  const e = t.emailTokens;
  return db
    .update(e)
    .set({ usedAt: now })
    .where(and(eq(e.tokenHash, tokenHash), eq(e.purpose, purpose), isNull(e.usedAt), gt(e.expiresAt, now)))
    .returning({ userId: e.userId, email: e.email });
}

/**
 * `spendEmailToken` with the token's live user as it is before any change, in ONE round trip
 * (a batch: the spend, then the read of the user the token names); `user` is null when the
 * account is gone.
 */
export async function spendEmailTokenWithUser(
  database: Database,
  tokenHash: string,
  purpose: EmailTokenPurpose,
  now: Date,
): Promise<{ userId: string; email: string; user: UserRow | null } | null> {
  const { t } = database;
  const e = t.emailTokens;
  const [spent, users] = await database.atomic((db) => [
    spend(db, t, tokenHash, purpose, now),
    selectUser(db, t, sql`(${db.select({ userId: e.userId }).from(e).where(eq(e.tokenHash, tokenHash))})`),
  ]);
  const [row] = spent;
  return row ? { ...row, user: users[0] ?? null } : null;
}

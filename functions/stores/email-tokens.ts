/**
 * Email tokens: the links that prove an address (verification) or move an account to a new
 * one (email change). Stored as SHA-256 of the token; single use (compare-and-set on
 * `used_at`); 24 hours by default.
 */
import { and, eq, gt, isNull } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";
import { rowWhere } from "../tenant-data/sql";
import { isLiveUser } from "./users";

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
  const e = t.emailTokens;
  const [row] = await db
    .update(e)
    .set({ usedAt: now })
    .where(and(eq(e.tokenHash, tokenHash), eq(e.purpose, purpose), isNull(e.usedAt), gt(e.expiresAt, now)))
    .returning({ userId: e.userId, email: e.email });
  return row ?? null;
}

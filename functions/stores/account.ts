/** The account summary `GET /v1/me` shows: a user with the counts of its second factors. */
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Database } from "../../db/database";
import { type UserRow, userProjection } from "./users";

export interface AccountSummaryRow extends UserRow {
  verifiedFactors: number;
  recoveryCodesRemaining: number;
}

/**
 * The user with its verified factor and unused recovery code counts, or null. ONE statement:
 * both counts are scalar subqueries of the user row, so the summary costs a single round trip.
 */
export async function findAccountSummary(
  { db, t }: Database,
  userId: string,
): Promise<AccountSummaryRow | null> {
  const u = t.users;
  const f = t.userMfaMethods;
  const r = t.userRecoveryCodes;
  const [row] = await db
    .select({
      ...userProjection(t),
      verifiedFactors:
        sql<number>`(select count(*) from ${f} where ${and(eq(f.userId, u.id), eq(f.status, "verified"))})`.mapWith(
          Number,
        ),
      recoveryCodesRemaining:
        sql<number>`(select count(*) from ${r} where ${and(eq(r.userId, u.id), isNull(r.usedAt))})`.mapWith(
          Number,
        ),
    })
    .from(u)
    .where(eq(u.id, userId));
  return row ?? null;
}

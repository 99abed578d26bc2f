/** MFA factors (TOTP today) and recovery codes of a user. */
import { and, count, eq } from "drizzle-orm";
import type { Database } from "../../db/database";

/** Number of verified MFA factors the user has right now (read live, never cached). */
export async function countVerifiedFactors({ db, t }: Database, userId: string): Promise<number> {
  const f = t.userMfaMethods;
  const [row] = await db
    .select({ n: count() })
    .from(f)
    .where(and(eq(f.userId, userId), eq(f.status, "verified")));
  return Number(row?.n ?? 0);
}

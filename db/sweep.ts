/**
 * Deletes rows that can never matter again, so tables that grow with traffic stay small
 * without a cron outside the app: expired sessions, challenges, reset tokens, idempotency keys
 * and rate-limit buckets. Append-only records (consents, security events) are never touched.
 * Every delete is idempotent and safe to run while requests are served: each row it removes is
 * already refused by the queries that read it (they all check expiry).
 */
import { and, isNotNull, lt, or } from "drizzle-orm";
import type { Database } from "./database";

/** How long dead sessions, challenges and reset tokens are kept (for support questions) before deletion. */
export const SWEEP_GRACE_MS = 7 * 24 * 60 * 60 * 1000;

export interface SweepResult {
  sessions: number;
  mfaChallenges: number;
  passwordResetTokens: number;
  usageIdempotencyKeys: number;
  rateLimitBuckets: number;
}

export async function sweepExpired(
  database: Database,
  now: Date,
  graceMs = SWEEP_GRACE_MS,
): Promise<SweepResult> {
  const { t } = database;
  const before = new Date(now.getTime() - graceMs);
  const s = t.userSessions;
  const [sessions, mfaChallenges, passwordResetTokens, usageIdempotencyKeys, rateLimitBuckets] =
    await database.atomic((db) => [
      db
        .delete(s)
        .where(or(lt(s.expiresAt, before), and(isNotNull(s.revokedAt), lt(s.revokedAt, before))))
        .returning({ id: s.id }),
      db
        .delete(t.mfaChallenges)
        .where(lt(t.mfaChallenges.expiresAt, before))
        .returning({ id: t.mfaChallenges.id }),
      db
        .delete(t.passwordResetTokens)
        .where(lt(t.passwordResetTokens.expiresAt, before))
        .returning({ id: t.passwordResetTokens.id }),
      db
        .delete(t.usageIdempotencyKeys)
        .where(lt(t.usageIdempotencyKeys.expiresAt, now))
        .returning({ key: t.usageIdempotencyKeys.key }),
      db
        .delete(t.rateLimitBuckets)
        .where(lt(t.rateLimitBuckets.expiresAt, now))
        .returning({ key: t.rateLimitBuckets.key }),
    ]);
  return {
    sessions: (sessions as unknown[]).length,
    mfaChallenges: (mfaChallenges as unknown[]).length,
    passwordResetTokens: (passwordResetTokens as unknown[]).length,
    usageIdempotencyKeys: (usageIdempotencyKeys as unknown[]).length,
    rateLimitBuckets: (rateLimitBuckets as unknown[]).length,
  };
}

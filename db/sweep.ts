/**
 * Deletes rows that can never matter again, so tables that grow with traffic stay small
 * without a cron outside the app: expired sessions, challenges, reset tokens, idempotency keys
 * and rate-limit buckets, and outbox messages that were sent or failed more than the outbox
 * retention ago (so no address lingers; a pending or sending message is never deleted).
 * Append-only records (consents, security events) are never touched.
 * Every delete is idempotent and safe to run while requests are served: each row it removes is
 * already refused by the queries that read it (they all check expiry).
 */
import { and, inArray, isNotNull, lt, or } from "drizzle-orm";
import type { Database } from "./database";

/** How long dead sessions, challenges and reset tokens are kept (for support questions) before deletion. */
export const SWEEP_GRACE_MS = 7 * 24 * 60 * 60 * 1000;
/** How long sent and failed outbox messages are kept (the default of OUTBOX_RETENTION_DAYS). */
export const OUTBOX_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export interface SweepOptions {
  /** Grace for dead sessions, challenges and reset tokens (default SWEEP_GRACE_MS). */
  graceMs?: number;
  /** Sent and failed messages queued longer ago than this are deleted (config `outbox.retentionMs`). */
  outboxRetentionMs?: number;
}

export interface SweepResult {
  sessions: number;
  mfaChallenges: number;
  webauthnChallenges: number;
  passwordResetTokens: number;
  usageIdempotencyKeys: number;
  rateLimitBuckets: number;
  outboxMessages: number;
}

export async function sweepExpired(
  database: Database,
  now: Date,
  { graceMs = SWEEP_GRACE_MS, outboxRetentionMs = OUTBOX_RETENTION_MS }: SweepOptions = {},
): Promise<SweepResult> {
  const { t } = database;
  const before = new Date(now.getTime() - graceMs);
  const s = t.userSessions;
  const o = t.outboxMessages;
  // Counted from when the message was queued: a message is sent or failed within hours of that
  // (the backoff of every allowed attempt), so none is kept much past the retention.
  const outboxBefore = new Date(now.getTime() - outboxRetentionMs);
  const [
    sessions,
    mfaChallenges,
    passwordResetTokens,
    usageIdempotencyKeys,
    rateLimitBuckets,
    outbox,
    webauthnChallenges,
  ] = await database.atomic((db) => [
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
    db
      .delete(o)
      .where(and(inArray(o.status, ["sent", "failed"]), lt(o.createdAt, outboxBefore)))
      .returning({ id: o.id }),
    db
      .delete(t.webauthnChallenges)
      .where(lt(t.webauthnChallenges.expiresAt, before))
      .returning({ id: t.webauthnChallenges.id }),
  ]);
  return {
    sessions: (sessions as unknown[]).length,
    mfaChallenges: (mfaChallenges as unknown[]).length,
    webauthnChallenges: (webauthnChallenges as unknown[]).length,
    passwordResetTokens: (passwordResetTokens as unknown[]).length,
    usageIdempotencyKeys: (usageIdempotencyKeys as unknown[]).length,
    rateLimitBuckets: (rateLimitBuckets as unknown[]).length,
    outboxMessages: (outbox as unknown[]).length,
  };
}

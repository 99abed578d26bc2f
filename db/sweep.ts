/**
 * Deletes rows that can never matter again, so tables that grow with traffic stay small
 * without a cron outside the app: expired sessions, challenges, reset tokens, idempotency keys
 * and rate-limit buckets, and outbox messages that were sent or failed more than the outbox
 * retention ago (so no address lingers; a pending or sending message is never deleted).
 * Append-only records (consents, security events) are kept forever unless a retention is
 * configured (SECURITY_EVENT_RETENTION_DAYS, CONSENT_RETENTION_DAYS): then events older than it
 * are deleted, and consent records older than it are deleted only when a newer record of the
 * same user, scope and policy exists, so the decision in force is never lost (it is the
 * evidence the record exists for).
 * Every delete is idempotent and safe to run while requests are served: each row it removes is
 * already refused by the queries that read it (they all check expiry).
 */
import { aliasedTable, and, eq, exists, gt, inArray, isNotNull, lt, or, sql } from "drizzle-orm";
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
  /** Security events older than this are deleted; undefined: kept forever (config `retention.securityEventsMs`). */
  securityEventRetentionMs?: number;
  /** Superseded consent records older than this are deleted; undefined: kept forever (config `retention.consentsMs`). */
  consentRetentionMs?: number;
}

export interface SweepResult {
  sessions: number;
  mfaChallenges: number;
  webauthnChallenges: number;
  passwordResetTokens: number;
  usageIdempotencyKeys: number;
  rateLimitBuckets: number;
  outboxMessages: number;
  securityEvents: number;
  consents: number;
}

export async function sweepExpired(
  database: Database,
  now: Date,
  {
    graceMs = SWEEP_GRACE_MS,
    outboxRetentionMs = OUTBOX_RETENTION_MS,
    securityEventRetentionMs,
    consentRetentionMs,
  }: SweepOptions = {},
): Promise<SweepResult> {
  const { t } = database;
  const before = new Date(now.getTime() - graceMs);
  const s = t.userSessions;
  const o = t.outboxMessages;
  // Counted from when the message was queued: a message is sent or failed within hours of that
  // (the backoff of every allowed attempt), so none is kept much past the retention.
  const outboxBefore = new Date(now.getTime() - outboxRetentionMs);
  const e = t.securityEvents;
  const c = t.userConsents;
  // The same table under another name, for "a newer record of the same key exists".
  const newer = aliasedTable(c, "newer_consent");
  const ago = (ms: number | undefined) => new Date(now.getTime() - (ms ?? 0));
  const [
    sessions,
    mfaChallenges,
    passwordResetTokens,
    usageIdempotencyKeys,
    rateLimitBuckets,
    outbox,
    securityEvents,
    consents,
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
    // Without a retention the condition is false: nothing is deleted.
    db
      .delete(e)
      .where(
        securityEventRetentionMs === undefined ? sql`1 = 0` : lt(e.createdAt, ago(securityEventRetentionMs)),
      )
      .returning({ id: e.id }),
    db
      .delete(c)
      .where(
        consentRetentionMs === undefined
          ? sql`1 = 0`
          : and(
              lt(c.createdAt, ago(consentRetentionMs)),
              exists(
                db
                  .select({ one: sql`1` })
                  .from(newer)
                  .where(
                    and(
                      eq(newer.userId, c.userId),
                      eq(newer.scopeId, c.scopeId),
                      eq(newer.policy, c.policy),
                      gt(newer.id, c.id),
                    ),
                  ),
              ),
            ),
      )
      .returning({ id: c.id }),
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
    securityEvents: (securityEvents as unknown[]).length,
    consents: (consents as unknown[]).length,
  };
}

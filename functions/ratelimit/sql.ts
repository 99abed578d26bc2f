/**
 * Rate limiting in the application's own database, for the embedded default (`wrangler dev`
 * with D1, libSQL) where no Redis exists. Same sliding-window approximation as
 * @upstash/ratelimit: hits in the current fixed window plus the previous window's hits
 * weighted by how much of it still overlaps the sliding window.
 *
 * Exact under concurrency: every attempt is first counted by one atomic upsert that returns the
 * new count, and the decision is made on that returned count, so N racing attempts see N
 * distinct counts and at most `limit` of them pass. An attempt over the limit takes its count
 * back at once (refused attempts are not counted, as in the Upstash store), so at any moment
 * at most `limit` counted attempts exist per window and key. Expired buckets are deleted by the
 * periodic sweep (db/sweep.ts), so a request's statement count does not depend on chance.
 */
import { and, eq, gt, sql } from "drizzle-orm";
import type { Database } from "../../db/database";
import { type RateLimiter, type RateLimitResult, RateLimitUnavailableError, type RateRule } from "./types";

export function createSqlRateLimiter(database: Database, now: () => number = Date.now): RateLimiter {
  const { db, t } = database;
  const b = t.rateLimitBuckets;

  const windowOf = (rule: RateRule, at: number) => Math.floor(at / rule.windowMs) * rule.windowMs;
  const keyOf = (rule: RateRule, identifier: string) => `${rule.name}:${identifier}`;

  /** Decrements the bucket, never below zero. */
  async function takeBack(key: string, windowStart: number): Promise<void> {
    await db
      .update(b)
      .set({ hits: sql`${b.hits} - 1` })
      .where(and(eq(b.key, key), eq(b.windowStart, windowStart), gt(b.hits, 0)));
  }

  async function limit(rule: RateRule, identifier: string): Promise<RateLimitResult> {
    const at = now();
    const key = keyOf(rule, identifier);
    const windowStart = windowOf(rule, at);
    const [previous] = await db
      .select({ hits: b.hits })
      .from(b)
      .where(and(eq(b.key, key), eq(b.windowStart, windowStart - rule.windowMs)));
    const [current] = await db
      .insert(b)
      .values({ key, windowStart, hits: 1, expiresAt: new Date(windowStart + 2 * rule.windowMs) })
      .onConflictDoUpdate({ target: [b.key, b.windowStart], set: { hits: sql`${b.hits} + 1` } })
      .returning({ hits: b.hits });
    const overlap = (rule.windowMs - (at - windowStart)) / rule.windowMs;
    const used = Math.floor((previous?.hits ?? 0) * overlap) + (current?.hits ?? 1);
    const resetAt = windowStart + rule.windowMs;
    if (used > rule.limit) {
      await takeBack(key, windowStart);
      return { allowed: false, limit: rule.limit, remaining: 0, resetAt };
    }
    return { allowed: true, limit: rule.limit, remaining: rule.limit - used, resetAt };
  }

  /** Fail closed: a store that cannot count lets nobody through. */
  async function closed<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw new RateLimitUnavailableError("SQL rate-limit store failed", { cause: err });
    }
  }

  return {
    limit: (rule, identifier) => closed(() => limit(rule, identifier)),
    // Taken back from the current window: an attempt counted just before a window boundary stays
    // counted in the previous one (the safe direction).
    refund: (rule, identifier) => closed(() => takeBack(keyOf(rule, identifier), windowOf(rule, now()))),
    ping: () => closed(() => database.ping()),
  };
}

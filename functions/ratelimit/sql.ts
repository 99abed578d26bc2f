/**
 * Rate limiting in the application's own database, for the embedded default (`wrangler dev`
 * with D1, libSQL) where no Redis exists. Same sliding-window approximation as
 * @upstash/ratelimit: hits in the current fixed window plus the previous window's hits
 * weighted by how much of it still overlaps the sliding window.
 *
 * Exact under concurrency: ONE statement counts an attempt on every check of a request
 * (`INSERT … VALUES (…), (…) ON CONFLICT DO UPDATE SET hits = hits + 1 RETURNING`, with each
 * bucket's previous window read by a scalar subquery in the same statement), and the decision
 * is made on the counts it returns, so N racing attempts see N distinct counts and at most
 * `limit` of them pass. Checks over their limit take their count back at once (refused
 * attempts are not counted, as in the Upstash store), so at any moment at most `limit` counted
 * attempts exist per window and key. Expired buckets are deleted by the periodic sweep
 * (db/sweep.ts), so a request's statement count does not depend on chance.
 */
import { sql } from "drizzle-orm";
import type { Database } from "../../db/database";
import { type RateCheck, type RateLimiter, type RateLimitResult, RateLimitUnavailableError } from "./types";

export function createSqlRateLimiter(database: Database, now: () => number = Date.now): RateLimiter {
  const { db, t } = database;
  const b = t.rateLimitBuckets;

  const bucketOf = (check: RateCheck, at: number) => ({
    key: `${check.rule.name}:${check.identifier}`,
    windowStart: Math.floor(at / check.rule.windowMs) * check.rule.windowMs,
    windowMs: check.rule.windowMs,
  });

  /**
   * Decrements each named bucket, never below zero, in one statement. Written as an upsert over
   * the buckets sorted by key, like the counting statement: Postgres locks the rows of a
   * multi-row INSERT … ON CONFLICT in the order of its VALUES, so two requests always lock
   * shared buckets in the same order and cannot deadlock (an UPDATE … WHERE a OR b locks in
   * scan order, which can cross and deadlock under load).
   */
  async function takeBack(buckets: { key: string; windowStart: number; windowMs: number }[]): Promise<void> {
    if (buckets.length === 0) return;
    await db
      .insert(b)
      .values(sortedRows(buckets, 0))
      .onConflictDoUpdate({
        target: [b.key, b.windowStart],
        set: { hits: sql`case when ${b.hits} > 0 then ${b.hits} - 1 else 0 end` },
      });
  }

  /** Bucket rows (with `hits` for a new row) in key order: the lock order of both statements. */
  function sortedRows(buckets: { key: string; windowStart: number; windowMs: number }[], hits: number) {
    return [...buckets]
      .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
      .map((x) => ({
        key: x.key,
        windowStart: x.windowStart,
        hits,
        expiresAt: new Date(x.windowStart + 2 * x.windowMs),
      }));
  }

  async function limit(checks: readonly RateCheck[]): Promise<RateLimitResult[]> {
    if (checks.length === 0) return [];
    const at = now();
    const buckets = checks.map((c) => bucketOf(c, at));
    // Each returned row's previous window: its start minus its rule's window, chosen by key.
    const previousStart = sql.join(
      [
        sql`case ${b.key}`,
        ...buckets.map((x) => sql`when ${x.key} then cast(${x.windowStart - x.windowMs} as bigint)`),
        sql`end`,
      ],
      sql` `,
    );
    const rows = await db
      .insert(b)
      .values(sortedRows(buckets, 1))
      .onConflictDoUpdate({ target: [b.key, b.windowStart], set: { hits: sql`${b.hits} + 1` } })
      .returning({
        key: b.key,
        hits: b.hits,
        previous: sql<
          number | null
        >`(select p.hits from ${b} as p where p.key = ${b}.key and p.window_start = ${previousStart})`,
      });
    const byKey = new Map(rows.map((r) => [r.key, r]));
    const results = buckets.map((x, i) => {
      const rule = checks[i]!.rule;
      const row = byKey.get(x.key);
      const overlap = (x.windowMs - (at - x.windowStart)) / x.windowMs;
      const used = Math.floor(Number(row?.previous ?? 0) * overlap) + Number(row?.hits ?? 1);
      const resetAt = x.windowStart + x.windowMs;
      return used > rule.limit
        ? { allowed: false, limit: rule.limit, remaining: 0, resetAt }
        : { allowed: true, limit: rule.limit, remaining: rule.limit - used, resetAt };
    });
    await takeBack(buckets.filter((_, i) => !results[i]!.allowed));
    return results;
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
    limit: (checks) => closed(() => limit(checks)),
    // Taken back from the current window: an attempt counted just before a window boundary stays
    // counted in the previous one (the safe direction).
    refund: (checks) => closed(() => takeBack(checks.map((c) => bucketOf(c, now())))),
    ping: () => closed(() => database.ping()),
  };
}

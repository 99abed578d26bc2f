/**
 * Rate limiting in the application's own database, for the embedded default (`wrangler dev`
 * with D1, libSQL) where no Redis exists. Same sliding-window approximation as
 * @upstash/ratelimit: hits in the current fixed window plus the previous window's hits
 * weighted by how much of it still overlaps the sliding window.
 *
 * Exact under concurrency: every attempt is counted by one atomic upsert that returns the new
 * count, and the decision is made on that returned count, so N racing requests see N distinct
 * counts and at most `limit` of them pass. Refused attempts are counted too: a flood keeps the
 * window closed ("every check counts").
 */
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import type { Database } from "../../db/database";
import { type RateLimiter, type RateLimitResult, RateLimitUnavailableError, type RateRule } from "./types";

/** Share of calls that also sweep expired buckets, keeping the table small without a cron. */
const SWEEP_PROBABILITY = 0.01;

export function createSqlRateLimiter(database: Database, now: () => number = Date.now): RateLimiter {
  const { db, t } = database;
  const b = t.rateLimitBuckets;

  /** Hits recorded for `key` in the windows starting at `starts`. */
  async function hitsIn(key: string, starts: number[]): Promise<Map<number, number>> {
    const rows = await db
      .select({ windowStart: b.windowStart, hits: b.hits })
      .from(b)
      .where(and(eq(b.key, key), inArray(b.windowStart, starts)));
    return new Map(rows.map((r) => [r.windowStart, r.hits]));
  }

  function result(
    rule: RateRule,
    at: number,
    windowStart: number,
    previousHits: number,
    currentHits: number,
  ) {
    const overlap = (rule.windowMs - (at - windowStart)) / rule.windowMs;
    const used = Math.floor(previousHits * overlap) + currentHits;
    return {
      used,
      limit: rule.limit,
      remaining: Math.max(0, rule.limit - used),
      resetAt: windowStart + rule.windowMs,
    };
  }

  async function hit(rule: RateRule, identifier: string): Promise<RateLimitResult> {
    const at = now();
    const key = `${rule.name}:${identifier}`;
    const windowStart = Math.floor(at / rule.windowMs) * rule.windowMs;
    const previous = await hitsIn(key, [windowStart - rule.windowMs]);
    const [current] = await db
      .insert(b)
      .values({ key, windowStart, hits: 1, expiresAt: new Date(windowStart + 2 * rule.windowMs) })
      .onConflictDoUpdate({ target: [b.key, b.windowStart], set: { hits: sql`${b.hits} + 1` } })
      .returning({ hits: b.hits });
    if (Math.random() < SWEEP_PROBABILITY) await db.delete(b).where(lt(b.expiresAt, new Date(at)));
    const { used, ...rest } = result(
      rule,
      at,
      windowStart,
      previous.get(windowStart - rule.windowMs) ?? 0,
      current?.hits ?? 1,
    );
    return { allowed: used <= rule.limit, ...rest };
  }

  async function peek(rule: RateRule, identifier: string): Promise<RateLimitResult> {
    const at = now();
    const key = `${rule.name}:${identifier}`;
    const windowStart = Math.floor(at / rule.windowMs) * rule.windowMs;
    const hits = await hitsIn(key, [windowStart - rule.windowMs, windowStart]);
    const { used, ...rest } = result(
      rule,
      at,
      windowStart,
      hits.get(windowStart - rule.windowMs) ?? 0,
      hits.get(windowStart) ?? 0,
    );
    return { allowed: used < rule.limit, ...rest };
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
    limit: (rule, identifier) => closed(() => hit(rule, identifier)),
    peek: (rule, identifier) => closed(() => peek(rule, identifier)),
    ping: () => closed(() => database.ping()),
  };
}

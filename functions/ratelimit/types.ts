/**
 * The one rate-limiter interface every backend implements (Upstash Redis in production,
 * a SQL table for the embedded default). Limits are sliding windows.
 */
export interface RateRule {
  /** Stable name, part of the storage key (e.g. "mfa:user"). */
  name: string;
  /** Requests allowed per window. */
  limit: number;
  /** Window length in milliseconds. */
  windowMs: number;
}

export interface RateLimitResult {
  /** True when this attempt is within the limit (and was counted); false: refused, not counted. */
  allowed: boolean;
  limit: number;
  /** Requests left in the window after this one (0 when refused). */
  remaining: number;
  /** Epoch milliseconds at which the window frees up again. */
  resetAt: number;
}

/** One rule applied to one identifier (a keyed hash naming the bucket). */
export interface RateCheck {
  rule: RateRule;
  identifier: string;
}

export interface RateLimiter {
  /**
   * Counts one attempt on each check that has room, atomically per check, in one round trip to
   * the store, and says for each whether it may proceed (results in the order given). A refused
   * check is not counted, so a flood that is being refused does not extend the lockout. Fails
   * closed: when the store cannot answer in time it throws RateLimitUnavailableError, never
   * answers `allowed: true`. The checks of one call name distinct (rule, identifier) pairs.
   */
  limit(checks: readonly RateCheck[]): Promise<RateLimitResult[]>;
  /**
   * Takes back one attempt on each check, as counted by `limit()`: a correct password or code is
   * not counted against its user, and an attempt refused by one rule gives back what the others
   * counted. One round trip. Fails closed like `limit()` (the attempts then stay counted).
   */
  refund(checks: readonly RateCheck[]): Promise<void>;
  /** Throws RateLimitUnavailableError when the store is unreachable (used by /readyz). */
  ping(): Promise<void>;
}

/** A request's limiter, with the round trips it made to the store on the request's behalf. */
export interface CountedRateLimiter extends RateLimiter {
  readonly stats: { roundTrips: number };
}

/**
 * Counts the store round trips of one request: each `limit`, `refund` and `ping` is one (Upstash:
 * the checks' scripts go out as one pipelined HTTP request (ratelimit/upstash-rest.ts); SQL store: one statement, plus
 * the take-back of a refused check's count, which only a 429 pays).
 */
export function countRoundTrips(limiter: RateLimiter): CountedRateLimiter {
  const stats = { roundTrips: 0 };
  const counted =
    <A extends unknown[], R>(f: (...args: A) => Promise<R>) =>
    (...args: A) => {
      stats.roundTrips++;
      return f(...args);
    };
  return {
    stats,
    limit: counted((checks) => limiter.limit(checks)),
    refund: counted((checks) => limiter.refund(checks)),
    ping: counted(() => limiter.ping()),
  };
}

/** The rate-limit store could not answer; callers turn this into 503 rate_limit_unavailable. */
export class RateLimitUnavailableError extends Error {
  override name = "RateLimitUnavailableError";
}

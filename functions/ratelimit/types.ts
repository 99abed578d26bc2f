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

export interface RateLimiter {
  /**
   * Counts one attempt against `rule` for `identifier` when the rule has room, atomically, and
   * says whether it may proceed. A refused attempt is not counted, so a flood that is being
   * refused does not extend the lockout. Fails closed: when the store cannot answer in time it
   * throws RateLimitUnavailableError, never answers `allowed: true`.
   */
  limit(rule: RateRule, identifier: string): Promise<RateLimitResult>;
  /**
   * Takes back one attempt counted by `limit()`: a correct password or code is not counted
   * against its user. Fails closed like `limit()` (the attempt then stays counted).
   */
  refund(rule: RateRule, identifier: string): Promise<void>;
  /** Throws RateLimitUnavailableError when the store is unreachable (used by /readyz). */
  ping(): Promise<void>;
}

/** The rate-limit store could not answer; callers turn this into 503 rate_limit_unavailable. */
export class RateLimitUnavailableError extends Error {
  override name = "RateLimitUnavailableError";
}

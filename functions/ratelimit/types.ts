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
  /** True when this request is within the limit (and was counted). */
  allowed: boolean;
  limit: number;
  /** Requests left in the window after this one (0 when refused). */
  remaining: number;
  /** Epoch milliseconds at which the window frees up again. */
  resetAt: number;
}

export interface RateLimiter {
  /**
   * Counts one request against `rule` for `identifier` and says whether it may proceed.
   * Fails closed: when the store cannot answer in time it throws RateLimitUnavailableError,
   * never answers `allowed: true`.
   */
  limit(rule: RateRule, identifier: string): Promise<RateLimitResult>;
  /**
   * Reports where `identifier` stands without counting a request (`allowed`: some remain).
   * For limits that count only failures (password attempts): peek first, `limit()` on failure.
   * Fails closed like `limit()`.
   */
  peek(rule: RateRule, identifier: string): Promise<RateLimitResult>;
  /** Throws RateLimitUnavailableError when the store is unreachable (used by /readyz). */
  ping(): Promise<void>;
}

/** The rate-limit store could not answer; callers turn this into 503 rate_limit_unavailable. */
export class RateLimitUnavailableError extends Error {
  override name = "RateLimitUnavailableError";
}

/**
 * Production rate limiter: sliding windows in Upstash Redis via @upstash/ratelimit. Counts live only
 * in Redis, so every isolate and region shares them. Runs on Workers, Lambda and Node (fetch only).
 */
import { Ratelimit } from "@upstash/ratelimit";
import type { Redis as UpstashRedis } from "@upstash/redis";
import {
  type RateCheck,
  type RateLimiter,
  type RateLimitResult,
  RateLimitUnavailableError,
  type RateRule,
} from "./types";
import { createUpstashRestClient, type UpstashScriptClient } from "./upstash-rest";

/**
 * How long a limit check or ping may take. @upstash/ratelimit defaults to 5 000 ms and then answers
 * `success: true`; we use a much shorter budget (in-region Upstash answers in a few ms) and treat
 * its timeout answer as a failure, so a slow store costs callers 1 s and a 503, never a free pass.
 */
export const DEFAULT_RATE_LIMIT_TIMEOUT_MS = 1_000;

/** Key prefix: keys are `<prefix>:<rule name>:<identifier>:<window number>`. */
export const DEFAULT_RATE_LIMIT_PREFIX = "rl";

export interface UpstashRateLimiterOptions {
  /** Upstash REST URL (UPSTASH_REDIS_REST_URL). */
  url: string;
  /** Upstash REST token (UPSTASH_REDIS_REST_TOKEN). */
  token: string;
  /** Budget per check or ping in ms; default DEFAULT_RATE_LIMIT_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Key prefix; default DEFAULT_RATE_LIMIT_PREFIX. */
  prefix?: string;
  /** A ready client (then url/token are not used); it should carry its own retry/timeout settings. */
  redis?: UpstashScriptClient;
}

function checkRule(rule: RateRule): void {
  // A bad rule is a programming error, not an unavailable store: let it surface as a 500.
  if (!Number.isInteger(rule.limit) || rule.limit < 1)
    throw new TypeError(`rate rule ${rule.name}: bad limit`);
  if (!Number.isInteger(rule.windowMs) || rule.windowMs < 1) {
    throw new TypeError(`rate rule ${rule.name}: bad windowMs`);
  }
}

/**
 * Creates a RateLimiter on Upstash Redis that fails closed: when the store errs or does not answer
 * within `timeoutMs`, `limit()` and `ping()` throw RateLimitUnavailableError.
 */
export function createUpstashRateLimiter(opts: UpstashRateLimiterOptions): RateLimiter {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_RATE_LIMIT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new TypeError("timeoutMs must be positive");
  const prefix = opts.prefix ?? DEFAULT_RATE_LIMIT_PREFIX;
  // Two quick retries ride out a dropped connection; a store that is down fails in ~150 ms. Each
  // fetch is aborted at the deadline, so a hung store does not pile up open requests.
  const redis = opts.redis ?? createUpstashRestClient({ url: opts.url, token: opts.token, timeoutMs });

  // One Ratelimit per rule: it holds configuration only (limit, window, prefix), never counts.
  const limiters = new Map<string, Ratelimit>();
  const limiterFor = (rule: RateRule): Ratelimit => {
    const cacheKey = `${rule.name}\n${rule.limit}\n${rule.windowMs}`;
    let limiter = limiters.get(cacheKey);
    if (!limiter) {
      checkRule(rule);
      limiter = new Ratelimit({
        // The library is typed against @upstash/redis's client; it calls evalsha/eval only.
        redis: redis as unknown as UpstashRedis,
        limiter: Ratelimit.slidingWindow(rule.limit, `${rule.windowMs} ms`),
        prefix: `${prefix}:${rule.name}`,
        timeout: timeoutMs,
        // An in-memory block list is process-local state that other isolates cannot see.
        ephemeralCache: false,
        analytics: false,
        enableTelemetry: false,
      });
      limiters.set(cacheKey, limiter);
    }
    return limiter;
  };

  /** Settles with the store's answer or fails closed at the deadline (or on any client error). */
  async function withDeadline<T>(work: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RateLimitUnavailableError(`rate-limit store did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([work, deadline]);
    } catch (error) {
      if (error instanceof RateLimitUnavailableError) throw error;
      throw new RateLimitUnavailableError("rate-limit store request failed", { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  /** One check through @upstash/ratelimit (`rate` -1 refunds), failing closed. */
  async function one(check: RateCheck, rate: 1 | -1): Promise<RateLimitResult> {
    // A bad rule is a programming error (TypeError), not an unavailable store.
    const limiter = limiterFor(check.rule);
    let res: Awaited<ReturnType<Ratelimit["limit"]>>;
    try {
      res = await limiter.limit(check.identifier, { rate });
    } catch (error) {
      // The client's message quotes the command (keys included); keep it in `cause` only.
      throw new RateLimitUnavailableError("rate-limit store request failed", { cause: error });
    }
    // Settled already with analytics off, but an ignored rejection would be reported as unhandled.
    res.pending.catch(() => {});
    if (res.reason === "timeout") {
      // The library's timeout answer is `success: true`: fail closed instead.
      throw new RateLimitUnavailableError(`rate-limit store did not answer within ${timeoutMs} ms`);
    }
    return {
      allowed: res.success,
      limit: res.limit,
      remaining: res.success ? Math.max(0, res.remaining) : 0,
      resetAt: res.reset,
    };
  }

  return {
    // The checks' scripts are issued in the same turn, so the client sends them as ONE request
    // to Upstash (/pipeline, ./upstash-rest.ts); each script is still atomic on its own key.
    limit: (checks) => Promise.all(checks.map((c) => one(c, 1))),

    // A negative rate is @upstash/ratelimit's refund: the script skips the limit check and
    // decrements the current window (an attempt counted just before a window boundary is then
    // taken back from the next window; the script does not clamp, so that window gains one).
    async refund(checks) {
      await Promise.all(checks.map((c) => one(c, -1)));
    },

    async ping(): Promise<void> {
      const answer = await withDeadline(redis.ping());
      if (answer !== "PONG") throw new RateLimitUnavailableError("rate-limit store answered PING wrongly");
    },
  };
}

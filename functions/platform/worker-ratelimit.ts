/**
 * What `@upstash/ratelimit` is in the Worker bundle (wrangler.toml `[alias]`, like
 * worker-openapi.ts for @hono/zod-openapi): the one part of it this service uses, the
 * single-region sliding window, with the library's own Lua script, keys and answers. Node,
 * Lambda and the tests' source runs import the real package.
 *
 * Why: the package is one 30 KiB file (every algorithm, multi-region, deny lists, analytics)
 * that does not tree-shake, ≈ 8 KiB of the Worker's gzip budget, which is start-up time.
 *
 * Same behaviour, so a Worker and a Node deployment can share one Redis and count together:
 * - the script below is the library's `slidingWindowLimitScript` (2.2.0) byte for byte, called
 *   by the same SHA-1 (EVALSHA, then EVAL on NOSCRIPT, as its `safeEval`), so Redis's script
 *   cache serves both;
 * - keys `<prefix>:<identifier>:<window number>` for this window and the previous one, and
 *   arguments [limit, now, window, rate]; a negative rate is the refund (no limit check);
 * - the answer `{ success, limit, remaining, reset, pending }`, and at the `timeout` the
 *   library's `{ success: true, reason: "timeout" }` (functions/ratelimit/upstash.ts turns that
 *   into a failure).
 * test/node/ratelimit-upstash-worker.test.ts checks the script and calls against the real package
 * and runs the limiter's Redis tests on this module. Options the service does not use (an
 * ephemeral cache, analytics, deny lists, dynamic limits) are refused rather than ignored.
 */
import type { UpstashScriptClient } from "../ratelimit/upstash-rest";

/** @upstash/ratelimit 2.2.0, `SCRIPTS.singleRegion.slidingWindow.limit.script`, verbatim. */
export const SLIDING_WINDOW_SCRIPT = `#!lua flags=allow-key-locking
  local currentKey  = KEYS[1]           -- identifier including prefixes
  local previousKey = KEYS[2]           -- key of the previous bucket
  local dynamicLimitKey = KEYS[3]       -- optional: key for dynamic limit in redis
  local tokens      = tonumber(ARGV[1]) -- default tokens per window
  local now         = ARGV[2]           -- current timestamp in milliseconds
  local window      = ARGV[3]           -- interval in milliseconds
  local incrementBy = tonumber(ARGV[4]) -- increment rate per request at a given value, default is 1

  -- Check for dynamic limit
  local effectiveLimit = tokens
  if dynamicLimitKey and dynamicLimitKey ~= "" then
    local dynamicLimit = redis.call("GET", dynamicLimitKey)
    if dynamicLimit then
      effectiveLimit = tonumber(dynamicLimit)
    end
  end

  local requestsInCurrentWindow = redis.call("GET", currentKey)
  if requestsInCurrentWindow == false then
    requestsInCurrentWindow = 0
  end

  local requestsInPreviousWindow = redis.call("GET", previousKey)
  if requestsInPreviousWindow == false then
    requestsInPreviousWindow = 0
  end
  local percentageInCurrent = ( now % window ) / window
  -- weighted requests to consider from the previous window
  requestsInPreviousWindow = math.floor(( 1 - percentageInCurrent ) * requestsInPreviousWindow)

  -- Only check limit if not refunding (negative rate)
  if incrementBy > 0 and requestsInPreviousWindow + requestsInCurrentWindow >= effectiveLimit then
    return {-1, effectiveLimit}
  end

  local newValue = redis.call("INCRBY", currentKey, incrementBy)
  if newValue == incrementBy then
    -- The first time this key is set, the value will be equal to incrementBy.
    -- So we only need the expire command once
    redis.call("PEXPIRE", currentKey, window * 2 + 1000) -- Enough time to overlap with a new window + 1 second
  end
  return {effectiveLimit - ( newValue + requestsInPreviousWindow ), effectiveLimit}
`;

/** SHA-1 of SLIDING_WINDOW_SCRIPT, as the library ships it (and Redis's script cache keys it). */
export const SLIDING_WINDOW_SCRIPT_SHA = "74740bb3d7792848093cdef586b6b6037c455fd6";

interface SlidingWindow {
  tokens: number;
  windowMs: number;
}

export interface RatelimitResponse {
  success: boolean;
  limit: number;
  remaining: number;
  reset: number;
  pending: Promise<unknown>;
  reason?: "timeout";
}

export interface RatelimitConfig {
  redis: UpstashScriptClient;
  limiter: SlidingWindow;
  prefix?: string;
  timeout?: number;
  ephemeralCache?: false;
  analytics?: false;
  enableTelemetry?: boolean;
}

const unsupported = (what: string) =>
  new TypeError(`the Worker's @upstash/ratelimit (functions/platform/worker-ratelimit.ts) has no ${what}`);

export class Ratelimit {
  /** Only `<number> ms` windows: the service passes its rules' windows in milliseconds. */
  static slidingWindow(tokens: number, window: `${number} ms`): SlidingWindow {
    const match = /^(\d+) ?ms$/.exec(window);
    if (!match) throw unsupported(`window other than "<n> ms" (${window})`);
    return { tokens, windowMs: Number(match[1]) };
  }

  readonly #redis: UpstashScriptClient;
  readonly #window: SlidingWindow;
  readonly #prefix: string;
  readonly #timeout: number;

  constructor(config: RatelimitConfig & Record<string, unknown>) {
    for (const [option, value] of Object.entries(config)) {
      const off = value === false || value === undefined;
      if (!["redis", "limiter", "prefix", "timeout", "enableTelemetry"].includes(option) && !off) {
        throw unsupported(`option ${option}`);
      }
    }
    if (config.ephemeralCache !== false) throw unsupported("ephemeral cache (pass ephemeralCache: false)");
    this.#redis = config.redis;
    this.#window = config.limiter;
    this.#prefix = config.prefix ?? "@upstash/ratelimit";
    this.#timeout = config.timeout ?? 5_000;
  }

  async limit(identifier: string, req?: { rate?: number }): Promise<RatelimitResponse> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<RatelimitResponse>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            success: true,
            limit: 0,
            remaining: 0,
            reset: 0,
            pending: Promise.resolve(),
            reason: "timeout",
          }),
        this.#timeout,
      );
    });
    try {
      return await Promise.race([this.#count(identifier, req?.rate ?? 1), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #count(identifier: string, rate: number): Promise<RatelimitResponse> {
    const { tokens, windowMs } = this.#window;
    const now = Date.now();
    const current = Math.floor(now / windowMs);
    const key = `${this.#prefix}:${identifier}`;
    const keys = [`${key}:${current}`, `${key}:${current - 1}`];
    const args = [tokens, now, windowMs, rate];
    let answer: unknown;
    try {
      answer = await this.#redis.evalsha(SLIDING_WINDOW_SCRIPT_SHA, keys, args);
    } catch (error) {
      // Not loaded yet (a new Redis, or after SCRIPT FLUSH): send the script itself once.
      if (!`${error}`.includes("NOSCRIPT")) throw error;
      answer = await this.#redis.eval(SLIDING_WINDOW_SCRIPT, keys, args);
    }
    const [remaining, limit] = answer as [number, number];
    return {
      success: remaining >= 0,
      limit,
      remaining: Math.max(0, remaining),
      reset: (current + 1) * windowMs,
      pending: Promise.resolve(),
    };
  }
}

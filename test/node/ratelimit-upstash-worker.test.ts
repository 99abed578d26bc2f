/**
 * The Worker's @upstash/ratelimit (functions/platform/worker-ratelimit.ts, swapped in by
 * wrangler.toml's [alias]): the limiter's tests run on it here, and it is compared with the real
 * package, call for call and on a shared Redis, since a Worker and a Node deployment may count
 * on the same keys.
 */
import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  SLIDING_WINDOW_SCRIPT,
  SLIDING_WINDOW_SCRIPT_SHA,
  Ratelimit as WorkerRatelimit,
} from "../../functions/platform/worker-ratelimit";
import { createUpstashRestClient, type UpstashScriptClient } from "../../functions/ratelimit/upstash-rest";
import { requireService, skipWithout } from "../support/services";
import { redisAvailable, sha1Hex, startUpstashBridge, type UpstashBridge } from "../support/upstash-bridge";
import { freshWindow, upstashLimiterCases } from "../support/upstash-limiter-cases";

// Every import of the package in this file's module graph (functions/ratelimit/upstash.ts) gets
// the Worker's module, as the Worker bundle does.
vi.mock("@upstash/ratelimit", () => import("../../functions/platform/worker-ratelimit"));
const { Ratelimit: RealRatelimit } =
  await vi.importActual<typeof import("@upstash/ratelimit")>("@upstash/ratelimit");

const redisUp = await redisAvailable();
const skipRedis = skipWithout("Redis", redisUp);

upstashLimiterCases("the Worker's sliding window");

type Implementation = typeof WorkerRatelimit | typeof RealRatelimit;
const IMPLEMENTATIONS: [string, Implementation][] = [
  ["@upstash/ratelimit", RealRatelimit],
  ["worker-ratelimit.ts", WorkerRatelimit],
];

/** The options functions/ratelimit/upstash.ts passes, on a given client. */
function limiterOf(
  impl: Implementation,
  redis: UpstashScriptClient,
  limit: number,
  windowMs: number,
  prefix: string,
) {
  return new impl({
    redis: redis as never,
    limiter: impl.slidingWindow(limit, `${windowMs} ms`) as never,
    prefix,
    timeout: 1_000,
    ephemeralCache: false,
    analytics: false,
    enableTelemetry: false,
  });
}

describe("the Worker's sliding window is @upstash/ratelimit's", () => {
  afterEach(() => vi.useRealTimers());

  it("is the library's script, under the library's SHA-1", () => {
    expect(sha1Hex(SLIDING_WINDOW_SCRIPT)).toBe(SLIDING_WINDOW_SCRIPT_SHA);
  });

  it("makes the same calls (EVALSHA, then EVAL on NOSCRIPT) and gives the same answers", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(1_764_500_012_345);
    // Store answers [remaining, limit]: room left, the last slot, refused; then a refund.
    const cases: [answer: [number, number], rate: number | undefined][] = [
      [[4, 5], undefined],
      [[0, 5], 1],
      [[-1, 5], undefined],
      [[2, 5], -1],
    ];
    for (const [answer, rate] of cases) {
      const seen = await Promise.all(
        IMPLEMENTATIONS.map(async ([, impl]) => {
          const calls: unknown[][] = [];
          const client: UpstashScriptClient = {
            evalsha: async (...args) => {
              calls.push(["evalsha", ...args]);
              throw new Error("NOSCRIPT No matching script. Please use EVAL.");
            },
            eval: async (...args) => {
              calls.push(["eval", ...args]);
              return answer;
            },
            ping: async () => "PONG",
          };
          const { pending, ...response } = await limiterOf(impl, client, 5, 30_000, "rl:x").limit(
            "id",
            rate === undefined ? undefined : { rate },
          );
          await pending;
          return { calls, response };
        }),
      );
      expect(seen[1]).toEqual(seen[0]);
      expect(seen[0]?.calls.map((c) => c[1])).toEqual([SLIDING_WINDOW_SCRIPT_SHA, SLIDING_WINDOW_SCRIPT]);
    }
  });

  it("refuses what it does not implement instead of ignoring it", () => {
    const redis = { evalsha: vi.fn(), eval: vi.fn(), ping: vi.fn() };
    const base = {
      redis,
      limiter: WorkerRatelimit.slidingWindow(5, "1000 ms"),
      ephemeralCache: false as const,
    };
    expect(() => new WorkerRatelimit({ ...base, ephemeralCache: undefined })).toThrow(TypeError);
    expect(() => new WorkerRatelimit({ ...base, analytics: true as never })).toThrow(TypeError);
    expect(() => new WorkerRatelimit({ ...base, enableProtection: true })).toThrow(TypeError);
    expect(() => WorkerRatelimit.slidingWindow(5, "10 s" as never)).toThrow(TypeError);
    expect(() => new WorkerRatelimit(base)).not.toThrow();
  });
});

describe.skipIf(skipRedis)(
  "the Worker's sliding window and @upstash/ratelimit count together on one Redis",
  () => {
    let bridge: UpstashBridge;
    beforeAll(async () => {
      requireService("Redis", redisUp);
      bridge = await startUpstashBridge();
    });
    afterAll(async () => {
      await bridge?.close();
    });

    it("take turns on the same keys: one count, one limit, refunds either way", async () => {
      const prefix = `test-${randomUUID()}:interop`;
      const redis = createUpstashRestClient({ url: bridge.url, token: bridge.token, timeoutMs: 1_000 });
      await freshWindow(30_000, 3_000);
      const [real, worker] = IMPLEMENTATIONS.map(([, impl]) => limiterOf(impl, redis, 5, 30_000, prefix));
      const answers = [];
      for (let i = 0; i < 7; i++) {
        const { success, remaining, limit } = await (i % 2 ? worker : real)!.limit("shared");
        answers.push({ success, remaining, limit });
      }
      expect(answers).toEqual([
        ...[4, 3, 2, 1, 0].map((remaining) => ({ success: true, remaining, limit: 5 })),
        { success: false, remaining: 0, limit: 5 },
        { success: false, remaining: 0, limit: 5 },
      ]);
      // A refund through the real package frees a slot the Worker's module sees, and back.
      await real!.limit("shared", { rate: -1 });
      expect((await worker!.limit("shared")).success).toBe(true);
      await worker!.limit("shared", { rate: -1 });
      expect((await real!.limit("shared")).success).toBe(true);
      expect((await worker!.limit("shared")).success).toBe(false);
    });
  },
);

/**
 * The Upstash rate limiter's tests (functions/ratelimit/upstash.ts), run by
 * test/node/ratelimit-upstash.test.ts on @upstash/ratelimit itself and by
 * test/node/ratelimit-upstash-worker.test.ts on the Worker's sliding window
 * (functions/platform/worker-ratelimit.ts, what wrangler.toml's [alias] puts in its place), so
 * both are held to the same counts against real Redis through the Upstash bridge.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RateLimiter,
  type RateLimitResult,
  RateLimitUnavailableError,
  type RateRule,
} from "../../functions/ratelimit/types";
import { createUpstashRateLimiter } from "../../functions/ratelimit/upstash";
import type { UpstashScriptClient } from "../../functions/ratelimit/upstash-rest";
import { requireService, skipWithout } from "./services";
import { redisAvailable, startUpstashBridge, type UpstashBridge } from "./upstash-bridge";

const redisUp = await redisAvailable();
const skipRedis = skipWithout("Redis", redisUp);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A rule nobody else uses, so tests (and parallel test files) never share counters. */
export const freshRule = (limit: number, windowMs: number): RateRule => ({
  name: `test:${randomUUID()}`,
  limit,
  windowMs,
});
export const countAllowed = (results: { allowed: boolean }[]) => results.filter((r) => r.allowed).length;

/**
 * Windows are aligned to multiples of windowMs; a burst straddling a boundary is legitimately
 * judged by two windows. Wait for a window with at least `needMs` left.
 */
export async function freshWindow(windowMs: number, needMs: number): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left < needMs) await sleep(left + 10);
}

/**
 * Rejects with RateLimitUnavailableError within `maxMs` of starting `work`: failing closed must
 * also be quick, since every request waits for the limiter. Each bound is the limiter's timeout
 * plus slack for a loaded test machine.
 */
async function expectUnavailable(work: () => Promise<unknown>, maxMs: number): Promise<void> {
  const started = performance.now();
  await expect(work()).rejects.toBeInstanceOf(RateLimitUnavailableError);
  const elapsed = Math.round(performance.now() - started);
  expect(elapsed, `rejected after ${elapsed} ms, expected within ${maxMs} ms`).toBeLessThanOrEqual(maxMs);
}

/** One check through the limiter's list interface. */
export async function one(
  limiter: RateLimiter,
  rule: RateRule,
  identifier: string,
): Promise<RateLimitResult> {
  const [result] = await limiter.limit([{ rule, identifier }]);
  if (!result) throw new Error("no result");
  return result;
}

async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Registers the limiter's tests; `which` names the @upstash/ratelimit the file runs them on. */
export function upstashLimiterCases(which: string): void {
  describe(`${which}: fails closed on a hung client (no Redis needed)`, () => {
    const hung = () => new Promise<never>(() => {});
    const hungRedis = { evalsha: hung, eval: hung, ping: hung } as unknown as UpstashScriptClient;
    const failingRedis = {
      evalsha: () => Promise.reject(new Error("fetch failed")),
      ping: () => Promise.reject(new Error("fetch failed")),
    } as unknown as UpstashScriptClient;
    const opts = { url: "http://unused.invalid", token: "unused", timeoutMs: 100 };

    it("turns the library's timeout answer (success: true) into RateLimitUnavailableError", async () => {
      const limiter = createUpstashRateLimiter({ ...opts, redis: hungRedis });
      await expectUnavailable(() => one(limiter, freshRule(5, 1000), "id"), 1000);
      await expectUnavailable(() => limiter.ping(), 1000);
    });

    it("turns a client error into RateLimitUnavailableError", async () => {
      const limiter = createUpstashRateLimiter({ ...opts, redis: failingRedis });
      await expectUnavailable(() => one(limiter, freshRule(5, 1000), "id"), 1000);
      await expectUnavailable(() => limiter.ping(), 1000);
    });

    it("refuses a nonsensical rule or timeout as a programming error", async () => {
      const limiter = createUpstashRateLimiter({ ...opts, redis: hungRedis });
      await expect(one(limiter, { name: "x", limit: 0, windowMs: 1000 }, "id")).rejects.toThrow(TypeError);
      expect(() => createUpstashRateLimiter({ ...opts, timeoutMs: 0 })).toThrow(TypeError);
    });
  });

  describe.skipIf(skipRedis)(`${which}: Upstash rate limiter against real Redis`, () => {
    let bridge: UpstashBridge;
    let otherBridge: UpstashBridge; // a second "isolate": its own HTTP client and Redis connection
    const prefix = `test-${randomUUID()}`;
    const limiterOn = (b: UpstashBridge, timeoutMs?: number) =>
      createUpstashRateLimiter({ url: b.url, token: b.token, prefix, timeoutMs });

    beforeAll(async () => {
      requireService("Redis", redisUp);
      bridge = await startUpstashBridge();
      otherBridge = await startUpstashBridge();
    });
    afterAll(async () => {
      await bridge?.close();
      await otherBridge?.close();
    });

    it("lets exactly `limit` of 100 parallel requests through", async () => {
      const rule = freshRule(10, 30_000);
      await freshWindow(rule.windowMs, 3_000);
      const before = Date.now();
      const limiter = limiterOn(bridge);
      const results = await Promise.all(Array.from({ length: 100 }, () => one(limiter, rule, "alice")));
      expect(countAllowed(results)).toBe(10);
      const allowedRemaining = results.filter((r) => r.allowed).map((r) => r.remaining);
      expect(allowedRemaining.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const r of results) {
        expect(r.limit).toBe(10);
        if (!r.allowed) expect(r.remaining).toBe(0);
        expect(r.resetAt).toBeGreaterThan(before);
        expect(r.resetAt).toBeLessThanOrEqual(Date.now() + rule.windowMs);
      }
    });

    it("shares the count between two limiter instances with separate clients", async () => {
      const rule = freshRule(10, 30_000);
      await freshWindow(rule.windowMs, 3_000);
      const [a, b] = [limiterOn(bridge), limiterOn(otherBridge)];
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => one(i % 2 ? a : b, rule, "shared")),
      );
      expect(countAllowed(results)).toBe(10);
    });

    it("keeps identifiers and rules independent", async () => {
      const rule = freshRule(3, 30_000);
      await freshWindow(rule.windowMs, 3_000);
      const limiter = limiterOn(bridge);
      const burst = (r: RateRule, id: string) => Promise.all([1, 2, 3, 4, 5].map(() => one(limiter, r, id)));
      expect(countAllowed(await burst(rule, "a"))).toBe(3);
      expect(countAllowed(await burst(rule, "b"))).toBe(3);
      expect(countAllowed(await burst(freshRule(3, 30_000), "a"))).toBe(3);
    });

    it("allows requests again once the window has passed", async () => {
      const rule = freshRule(5, 1_000);
      await freshWindow(rule.windowMs, 500);
      const limiter = limiterOn(bridge);
      const first = await Promise.all(Array.from({ length: 7 }, () => one(limiter, rule, "w")));
      expect(countAllowed(first)).toBe(5);
      // The sliding window weighs the previous window too: after two windows it has no say left.
      const resetAt = Math.max(...first.map((r) => r.resetAt));
      await sleep(resetAt + rule.windowMs + 20 - Date.now());
      const again = await Promise.all(Array.from({ length: 6 }, () => one(limiter, rule, "w")));
      expect(countAllowed(again)).toBe(5);
    });

    it("counts several checks in one call, and gives back what refund names", async () => {
      const [a, b] = [freshRule(2, 30_000), freshRule(2, 30_000)];
      await freshWindow(a.windowMs, 3_000);
      const limiter = limiterOn(bridge);
      const both = [
        { rule: a, identifier: "x" },
        { rule: b, identifier: "x" },
      ];
      expect((await limiter.limit(both)).map((r) => r.allowed)).toEqual([true, true]);
      expect((await limiter.limit(both)).map((r) => r.allowed)).toEqual([true, true]);
      expect((await limiter.limit(both)).map((r) => r.allowed)).toEqual([false, false]);
      // Refused attempts were not counted; refunding one of the two counted ones frees a slot.
      await limiter.refund([both[0]!]);
      expect((await limiter.limit(both)).map((r) => r.allowed)).toEqual([true, false]);
    });

    it("fails closed when the store is slower than the timeout, and recovers", async () => {
      const slow = await startUpstashBridge();
      try {
        const limiter = limiterOn(slow, 300);
        const rule = freshRule(5, 30_000);
        expect((await one(limiter, rule, "slow")).allowed).toBe(true);
        slow.setLatency(1_500);
        await expectUnavailable(() => one(limiter, rule, "slow"), 1_200);
        await expectUnavailable(() => limiter.ping(), 1_200);
        slow.setLatency(0);
        await expect(limiter.ping()).resolves.toBeUndefined();
      } finally {
        await slow.close();
      }
    });

    it("fails closed, quickly, when the store goes away or was never there", async () => {
      const doomed = await startUpstashBridge();
      const limiter = limiterOn(doomed, 1_000);
      const rule = freshRule(5, 30_000);
      expect((await one(limiter, rule, "gone")).allowed).toBe(true); // warms keep-alive sockets
      await doomed.close();
      await expectUnavailable(() => one(limiter, rule, "gone"), 2_000);
      await expectUnavailable(() => limiter.ping(), 2_000);

      const nowhere = createUpstashRateLimiter({ url: `http://127.0.0.1:${await deadPort()}`, token: "t" });
      await expectUnavailable(() => one(nowhere, rule, "never"), 2_000);
      await expectUnavailable(() => nowhere.ping(), 2_000);
    });
  });
}

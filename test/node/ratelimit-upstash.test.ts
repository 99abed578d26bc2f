import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { Redis } from "@upstash/redis/cloudflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RateLimiter,
  type RateLimitResult,
  RateLimitUnavailableError,
  type RateRule,
} from "../../functions/ratelimit/types";
import { createUpstashRateLimiter } from "../../functions/ratelimit/upstash";
import type { UpstashScriptClient } from "../../functions/ratelimit/upstash-rest";
import { requireService, skipWithout } from "../support/services";
import { redisAvailable, sha1Hex, startUpstashBridge, type UpstashBridge } from "../support/upstash-bridge";

const redisUp = await redisAvailable();
const skipRedis = skipWithout("Redis", redisUp);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A rule nobody else uses, so tests (and parallel test files) never share counters. */
const freshRule = (limit: number, windowMs: number): RateRule => ({
  name: `test:${randomUUID()}`,
  limit,
  windowMs,
});
const countAllowed = (results: { allowed: boolean }[]) => results.filter((r) => r.allowed).length;

/**
 * Windows are aligned to multiples of windowMs; a burst straddling a boundary is legitimately
 * judged by two windows. Wait for a window with at least `needMs` left.
 */
async function freshWindow(windowMs: number, needMs: number): Promise<void> {
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
async function one(limiter: RateLimiter, rule: RateRule, identifier: string): Promise<RateLimitResult> {
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

describe("fails closed on a hung client (no Redis needed)", () => {
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

describe.skipIf(skipRedis)("Upstash rate limiter against real Redis", () => {
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

describe.skipIf(skipRedis)("Upstash REST bridge protocol", () => {
  let bridge: UpstashBridge;
  const key = (name: string) => `bridge-test:${randomUUID()}:${name}`;
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${bridge.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${bridge.token}`, "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as unknown };
  };
  const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

  beforeAll(async () => {
    requireService("Redis", redisUp);
    bridge = await startUpstashBridge();
  });
  afterAll(async () => {
    await bridge?.close();
  });

  it("answers 401 without the right bearer token", async () => {
    for (const authorization of [undefined, "Bearer wrong", bridge.token]) {
      const res = await fetch(bridge.url, {
        method: "POST",
        headers: authorization ? { authorization } : {},
        body: JSON.stringify(["PING"]),
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: "Unauthorized" });
    }
  });

  it("base64-encodes string results (also in arrays) only when asked", async () => {
    const k = key("b64");
    const value = "héllo wörld ✓";
    const enc = { "upstash-encoding": "base64" };
    expect(await post("/", ["SET", k, value, "EX", 60], enc)).toEqual({
      status: 200,
      body: { result: "OK" },
    });
    expect((await post("/", ["GET", k], enc)).body).toEqual({ result: b64(value) });
    expect((await post("/", ["GET", k])).body).toEqual({ result: value });
    expect((await post("/", ["MGET", k, key("missing")], enc)).body).toEqual({ result: [b64(value), null] });
    expect((await post("/", ["STRLEN", k], enc)).body).toEqual({ result: Buffer.byteLength(value) });
  });

  it("runs pipelines in order with per-command errors, and multi-exec", async () => {
    const k = key("pipe");
    const res = await post("/pipeline", [["SET", k, 1, "EX", 60], ["INCRBY", k, "2"], ["NOPE"], ["GET", k]]);
    expect(res.status).toBe(200);
    const [set, incr, nope, get] = res.body as Record<string, unknown>[];
    expect([set, incr, get]).toEqual([{ result: "OK" }, { result: 3 }, { result: "3" }]);
    expect(nope?.error).toMatch(/unknown command/i);
    const tx = await post("/multi-exec", [
      ["INCR", k],
      ["INCR", k],
    ]);
    expect(tx.body).toEqual([{ result: 4 }, { result: 5 }]);
    const bad = await post("/", ["NOPE"]);
    expect(bad.status).toBe(400);
    expect((bad.body as { error: string }).error).toMatch(/unknown command/i);
  });

  it("strips a leading #! line from scripts and maps the client's sha", async () => {
    const script = "#!lua flags=allow-key-locking\nreturn ARGV[1]";
    expect((await post("/", ["EVAL", script, 0, "x"])).body).toEqual({ result: "x" });
    expect((await post("/", ["EVALSHA", sha1Hex(script), 0, "y"])).body).toEqual({ result: "y" });
    const other = "#!lua flags=allow-key-locking\nreturn 'loaded'";
    expect((await post("/", ["SCRIPT", "LOAD", other])).body).toEqual({ result: sha1Hex(other) });
    expect((await post("/", ["EVALSHA", sha1Hex(other), 0])).body).toEqual({ result: "loaded" });
    const unknown = await post("/", ["EVALSHA", sha1Hex(randomUUID()), 0]);
    expect((unknown.body as { error: string }).error).toMatch(/NOSCRIPT/);
    // Line numbers in Lua errors still match the original text.
    const failing = await post("/", ["EVAL", "#!lua flags=allow-key-locking\nerror('boom')", 0]);
    expect((failing.body as { error: string }).error).toMatch(/user_script:2: boom/);
  });

  it("serves @upstash/redis itself: JSON values, scripts with #!, transactions", async () => {
    const redis = new Redis({ url: bridge.url, token: bridge.token, enableTelemetry: false });
    const k = key("client");
    await redis.set(k, { a: 1, s: "ü" }, { ex: 60 });
    expect(await redis.get(k)).toEqual({ a: 1, s: "ü" });
    const script = redis.createScript<string>(
      `#!lua flags=allow-key-locking\nreturn 'v' .. ${randomUUID().length}`,
    );
    expect(await script.exec([], [])).toBe("v36"); // EVALSHA → NOSCRIPT → EVAL fallback
    expect(await script.evalsha([], [])).toBe("v36");
    const counter = key("tx");
    expect(await redis.multi().incr(counter).incr(counter).expire(counter, 60).exec()).toEqual([1, 2, 1]);
  });
});

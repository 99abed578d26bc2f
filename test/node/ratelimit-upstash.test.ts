import { Buffer } from "node:buffer";
import { randomUUID } from "node:crypto";
import { Redis } from "@upstash/redis/cloudflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireService, skipWithout } from "../support/services";
import { redisAvailable, sha1Hex, startUpstashBridge, type UpstashBridge } from "../support/upstash-bridge";
import { upstashLimiterCases } from "../support/upstash-limiter-cases";

const redisUp = await redisAvailable();
const skipRedis = skipWithout("Redis", redisUp);

upstashLimiterCases("@upstash/ratelimit");

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

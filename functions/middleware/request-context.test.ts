import { randomBytes } from "node:crypto";
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import type { Database } from "../../db/database";
import { loadConfig } from "../config";
import type { AppDeps, AppEnv, Vault } from "../context";
import { createKeyedHasher } from "../lib/keyed-hash";
import { createSecretBox, parseKeyring } from "../lib/secret-box";
import type { RateLimiter } from "../ratelimit/types";
import { requestContext, resolveClientIp } from "./request-context";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const NOW = Date.UTC(2030, 0, 2, 3, 4, 5);
const PLATFORM_IP = "203.0.113.9";

function setup(hops = 0) {
  const config = loadConfig({
    IP_HASH_KEY: randomBytes(32).toString("base64"),
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
    TRUSTED_PROXY_HOPS: String(hops),
  });
  const hashers = {
    ip: createKeyedHasher(config.ipHashKey, "ip"),
    userAgent: createKeyedHasher(config.ipHashKey, "user-agent"),
  };
  const ip = vi.fn(hashers.ip);
  const userAgent = vi.fn(hashers.userAgent);
  const limitKey = vi.fn(createKeyedHasher(config.ipHashKey, "rate-limit"));
  const vault: Vault = {
    hash: { ip, userAgent, limitKey },
    box: createSecretBox(parseKeyring(config.encryptionKeys)),
  };
  const db = { stats: { statements: 0, roundTrips: 0 }, close: vi.fn(async () => {}) };
  const limiter = {
    limit: vi.fn(async () => []),
    refund: vi.fn(async () => {}),
    ping: vi.fn(async () => {}),
  };
  const lines: Record<string, unknown>[] = [];
  const deps: AppDeps = {
    config,
    database: () => db as unknown as Database,
    rateLimiter: (d) => (d === (db as unknown) ? limiter : ({} as RateLimiter)),
    clientIp: () => PLATFORM_IP,
    now: () => NOW,
    log: (line) => lines.push(line),
  };
  const app = new Hono<AppEnv>().use(requestContext(deps, vault));
  return {
    app,
    deps,
    db,
    limiter,
    lines,
    hashers,
    calls: () => ip.mock.calls.length + userAgent.mock.calls.length,
  };
}

describe("requestContext", () => {
  it.each([
    ["abc.DEF_1:2-3", true],
    ["x".repeat(128), true],
    ["x".repeat(129), false],
    ["has space", false],
    ["a/b", false],
    ["", false],
  ])("keeps X-Request-Id %j only when valid (%s)", async (incoming, kept) => {
    const { app } = setup();
    app.get("/", (c) => c.text(c.var.scope.requestId === c.var.requestId ? c.var.requestId : "mismatch"));
    const res = await app.request("/", { headers: { "x-request-id": incoming } });
    const id = res.headers.get("x-request-id");
    expect(await res.text()).toBe(id);
    if (kept) expect(id).toBe(incoming);
    else expect(id).toMatch(UUID);
  });

  it("sets X-Request-Id and logs the status when the handler throws", async () => {
    const { app, lines } = setup();
    app.get("/boom", () => {
      throw new Error("boom");
    });
    app.onError((_, c) => c.text("failed", 500));
    const res = await app.request("/boom", { headers: { "x-request-id": "trace-1" } });
    expect([res.status, res.headers.get("x-request-id")]).toEqual([500, "trace-1"]);
    expect(lines).toEqual([expect.objectContaining({ requestId: "trace-1", status: 500 })]);
  });

  it("builds the scope: time from deps.now, platform IP, the request's db and limiter (its round trips counted)", async () => {
    const { app, deps, db, limiter } = setup();
    app.get("/", async (c) => {
      const s = c.var.scope;
      expect(s.config).toBe(deps.config);
      expect(s.db).toBe(db);
      await s.limiter.limit([]);
      await s.limiter.refund([]);
      expect(limiter.limit).toHaveBeenCalledTimes(1);
      expect(limiter.refund).toHaveBeenCalledTimes(1);
      expect(s.limiter.stats.roundTrips).toBe(2);
      expect(db.close).not.toHaveBeenCalled();
      return c.json({ now: s.now.toISOString(), ip: s.client.ip, ua: s.client.userAgent });
    });
    const res = await app.request("/", {
      headers: { "x-forwarded-for": "198.51.100.7", "user-agent": "UA/1" },
    });
    expect(await res.json()).toEqual({ now: "2030-01-02T03:04:05.000Z", ip: PLATFORM_IP, ua: "UA/1" });
    expect(db.close).toHaveBeenCalledTimes(1);
  });

  it("computes the keyed hashes lazily, once per request", async () => {
    const { app, hashers, calls } = setup();
    app.get("/quiet", (c) => c.text("ok"));
    app.get("/hashes", async (c) => {
      const [a, b] = await Promise.all([c.var.scope.client.hashes(), c.var.scope.client.hashes()]);
      return c.json({ a, same: a === b });
    });
    await app.request("/quiet", { headers: { "user-agent": "UA/1" } });
    expect(calls()).toBe(0);
    const res = await app.request("/hashes", { headers: { "user-agent": "UA/1" } });
    const expected = {
      ipHash: await hashers.ip(PLATFORM_IP),
      userAgentHash: await hashers.userAgent("UA/1"),
    };
    expect(await res.json()).toEqual({ a: expected, same: true });
    expect(calls()).toBe(2);
  });

  it("logs route pattern, status, statements and round trips, never IP, user agent, query or token", async () => {
    const { app, db, lines } = setup();
    app.get("/users/:id", (c) => {
      db.stats.statements += 3;
      db.stats.roundTrips += 2;
      return c.text("created", 201);
    });
    await app.request("/users/u-777?email=ann%40example.com", {
      headers: { "user-agent": "SecretAgent/9", authorization: "Bearer tok_abcdef", "x-request-id": "r1" },
    });
    expect(lines).toHaveLength(1);
    const { durationMs, ...line } = lines[0]!;
    expect(durationMs).toEqual(expect.any(Number));
    expect(line).toEqual({
      level: "info",
      msg: "request",
      requestId: "r1",
      method: "GET",
      route: "/users/:id",
      status: 201,
      statements: 3,
      roundTrips: 2,
      limiterRoundTrips: 0,
    });
    for (const leak of [PLATFORM_IP, "SecretAgent", "ann", "example.com", "tok_abcdef", "u-777"])
      expect(JSON.stringify(lines[0])).not.toContain(leak);
  });
});

describe("resolveClientIp", () => {
  async function ipFor(hops: number, xff?: string) {
    const { app, deps } = setup(hops);
    app.get("/", (c) => c.text(String(resolveClientIp(c, deps))));
    return (await app.request("/", { headers: xff ? { "x-forwarded-for": xff } : {} })).text();
  }

  it("ignores X-Forwarded-For without trusted proxies", async () => {
    expect(await ipFor(0, "198.51.100.1, 10.0.0.1")).toBe(PLATFORM_IP);
  });

  it("takes the entry that many hops from the right, else the platform IP", async () => {
    expect(await ipFor(1, "6.6.6.6, 198.51.100.1, 10.0.0.1")).toBe("10.0.0.1");
    expect(await ipFor(2, "6.6.6.6, 198.51.100.1 ,10.0.0.1")).toBe("198.51.100.1");
    expect(await ipFor(3, "198.51.100.1, 10.0.0.1")).toBe(PLATFORM_IP);
    expect(await ipFor(1)).toBe(PLATFORM_IP);
  });
});

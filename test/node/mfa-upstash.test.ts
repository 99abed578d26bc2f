/**
 * MFA rate limiting with the production store: @upstash/ratelimit over the Upstash REST
 * protocol (a bridge in front of the real local Redis). Brute force across two app instances,
 * a slow store and a store that is gone: MFA verification fails closed (503) and issues nothing.
 */
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUpstashRateLimiter } from "../../functions/ratelimit/upstash";
import { type Backend, openNodeBackend } from "../support/backends";
import { devOutbox, signUp } from "../support/fixtures";
import { call, type Harness, makeHarness } from "../support/harness";
import { challenge, codeAt, enrollTotp, STEP_MS, stepStart } from "../support/mfa";
import { requireService, skipWithout } from "../support/services";
import { redisAvailable, startUpstashBridge, type UpstashBridge } from "../support/upstash-bridge";

const redisUp = await redisAvailable();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(skipWithout("Redis", redisUp))("MFA on the Upstash store [libsql]", () => {
  let backend: Backend;
  const bridges: UpstashBridge[] = [];

  beforeAll(async () => {
    requireService("Redis", redisUp);
    backend = await openNodeBackend("libsql");
  });
  afterAll(async () => {
    await Promise.all(bridges.map((b) => b.close()));
    await backend?.close();
  });

  /** An app instance whose limiter talks to its own bridge (its own connection) under a shared prefix. */
  async function instance(prefix: string, env: Record<string, string>, like?: Harness, timeoutMs = 5_000) {
    const bridge = await startUpstashBridge();
    bridges.push(bridge);
    const limiter = createUpstashRateLimiter({ url: bridge.url, token: bridge.token, prefix, timeoutMs });
    const h = makeHarness({
      backend: "libsql+upstash",
      open: backend.open,
      env,
      ...(like ? { config: like.config } : {}),
      rateLimiter: () => limiter,
    });
    return { h, bridge };
  }

  async function failures(h: Harness, userId: string): Promise<number> {
    const { db, t } = h.open();
    const e = t.securityEvents;
    return (
      await db
        .select()
        .from(e)
        .where(and(eq(e.userId, userId), eq(e.type, "auth.mfa_failed")))
    ).length;
  }

  it("checks at most the limit of 100 parallel wrong codes spread over two instances, then refuses a correct one", async () => {
    const prefix = `t-${crypto.randomUUID()}`;
    // A short window so the test can wait it out in real time (Redis keeps the clock here).
    const env = { RATE_LIMIT_MFA_PER_USER: "10/10", RATE_LIMIT_MFA_PER_NETWORK: "1000/10" };
    const a = await instance(prefix, env);
    const b = await instance(prefix, env, a.h);
    a.h.clock.set(stepStart());
    b.h.clock.set(stepStart());
    const user = await signUp(a.h);
    // Windows are aligned to multiples of their length (Redis time): start the burst early in
    // one, so the correct code below is judged inside the same window.
    const left = 10_000 - (Date.now() % 10_000);
    if (left < 9_000) await sleep(left + 50);
    const { secret } = await enrollTotp(a.h, user);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        call(i % 2 ? a.h : b.h, "POST", "/v1/mfa/recovery-codes", {
          token: user.token,
          json: { code: "000000" },
        }),
      ),
    );
    const checked = results.filter((r) => r.status === 401).length;
    expect(results.filter((r) => r.status !== 401 && r.status !== 429).map((r) => r.body)).toEqual([]);
    const limited = results.filter((r) => r.status === 429);
    expect(checked + limited.length).toBe(100);
    expect(checked).toBeLessThanOrEqual(10);
    expect(await failures(a.h, user.userId)).toBe(checked);
    expect(limited[0]!.headers.get("retry-after")).toBeTruthy();
    expect(limited[0]!.headers.get("ratelimit-remaining")).toBe("0");

    a.h.clock.advance(STEP_MS);
    const refused = await call(a.h, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: await challenge(a.h, user), code: codeAt(secret, a.h.clock.now()) },
    });
    expect(refused.status).toBe(429);
    // A sliding window forgets the burst after two windows.
    await sleep(20_500);
    const later = await call(a.h, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: await challenge(a.h, user), code: codeAt(secret, a.h.clock.now()) },
    });
    expect(later.status).toBe(200);
  }, 60_000);

  it("answers 503 and issues no session when the store is slower than its timeout, and recovers", async () => {
    const { h, bridge } = await instance(`t-${crypto.randomUUID()}`, {}, undefined, 500);
    h.clock.set(stepStart());
    const user = await signUp(h);
    const { secret } = await enrollTotp(h, user);
    const token = await challenge(h, user);
    h.clock.advance(STEP_MS);
    const sessionsBefore = await sessionCount(h, user.userId);
    bridge.setLatency(1_500);
    const slow = await call(h, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: token, code: codeAt(secret, h.clock.now()) },
    });
    expect(slow.status).toBe(503);
    expect(slow.body.code).toBe("rate_limit_unavailable");
    expect(await sessionCount(h, user.userId)).toBe(sessionsBefore);
    const ready = await call(h, "GET", "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toEqual({ database: "ok", rateLimitStore: "down" });
    bridge.setLatency(0);
    const ok = await call(h, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: token, code: codeAt(secret, h.clock.now()) },
    });
    expect(ok.status).toBe(200);
  }, 30_000);

  it("answers 503 when the store is gone, at login challenge and at reset", async () => {
    const { h, bridge } = await instance(`t-${crypto.randomUUID()}`, { APP_ENV: "development" });
    h.clock.set(stepStart());
    const user = await signUp(h);
    const { secret } = await enrollTotp(h, user);
    const token = await challenge(h, user);
    expect((await call(h, "POST", "/v1/auth/password/forgot", { json: { email: user.email } })).status).toBe(
      202,
    );
    const outbox = await devOutbox(h, user.email);
    expect(outbox).toHaveLength(1);
    await bridge.close();
    h.clock.advance(STEP_MS);
    const res = await call(h, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: token, code: codeAt(secret, h.clock.now()) },
    });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe("rate_limit_unavailable");
    const sessions = await sessionCount(h, user.userId);
    const reset = await call(h, "POST", "/v1/auth/password/reset", {
      json: {
        token: outbox[0]?.token ?? "",
        newPassword: "a fresh long passphrase",
        code: codeAt(secret, h.clock.now()),
      },
    });
    expect(reset.status).toBe(503);
    expect(reset.body.code).toBe("rate_limit_unavailable");
    expect(await sessionCount(h, user.userId)).toBe(sessions);
  }, 30_000);
});

async function sessionCount(h: Harness, userId: string): Promise<number> {
  const { db, t } = h.open();
  return (await db.select().from(t.userSessions).where(eq(t.userSessions.userId, userId))).length;
}

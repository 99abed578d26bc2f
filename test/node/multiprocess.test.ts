/**
 * Two server processes (bench/server.ts: the Node entry's app on Postgres through the Neon driver
 * and the Upstash limiter through its REST bridge) sharing one scratch database and one Redis,
 * each with its own pool, relay, bridge and Redis connection, as two isolates would be. Limits
 * and counters must hold across them exactly as within one process: requests are split evenly
 * and sent at once. With CI=true a missing Postgres or Redis fails the test instead of skipping it.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { and, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS } from "../../functions/config";
import { totpCodeAt } from "../../functions/lib/totp";
import { type Backend, openNodeBackend, PG_HOST, PG_PORT, tcpReachable } from "../support/backends";
import { type ChildScript, startScript } from "../support/server-process";
import { requireService, skipWithout } from "../support/services";
import { redisAvailable } from "../support/upstash-bridge";

const postgresUp = await tcpReachable(PG_HOST, PG_PORT);
const redisUp = await redisAvailable();
const PASSWORD = "multi process correct horse";

// biome-ignore lint/suspicious/noExplicitAny: answers of many shapes, checked by status.
type Answer = { status: number; body: any };

describe.skipIf(skipWithout("Postgres", postgresUp) || skipWithout("Redis", redisUp))(
  "two server processes sharing Postgres and Redis",
  () => {
    let backend: Backend | undefined;
    const servers: ChildScript[] = [];
    let bases: string[] = [];

    beforeAll(async () => {
      requireService("Postgres", postgresUp);
      requireService("Redis", redisUp);
      backend = await openNodeBackend("postgres"); // scratch database, migrated once here
      const secret = () => randomBytes(32).toString("base64");
      // Shared secrets: both must read each other's TOTP secrets and hash IPs into the same buckets.
      const env = {
        APP_ENV: "test",
        IP_HASH_KEY: secret(),
        ENCRYPTION_KEYS: `k1:${secret()}`,
        DATABASE_URL: backend.url!,
        MIGRATE_ON_START: "false",
        // 20 concurrent logins prepare the challenges below; attempts are counted while in flight.
        RATE_LIMIT_PASSWORD_PER_ACCOUNT_NETWORK: "100/900",
        // These accounts enroll factors without reading mail; verification has its own tests.
        EMAIL_VERIFICATION: "off",
      };
      const started = await Promise.allSettled(
        [0, 1].map(() => startScript({ script: "bench/server.ts", env })),
      );
      for (const s of started) if (s.status === "fulfilled") servers.push(s.value);
      const failed = started.find((s) => s.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
      bases = servers.map((s) => `http://127.0.0.1:${s.ready.port}`);
    });

    afterAll(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await backend?.close();
    });

    /** One request to server `i % 2`. */
    async function api(
      i: number,
      method: string,
      path: string,
      opts: { json?: unknown; token?: string; headers?: Record<string, string> } = {},
    ): Promise<Answer> {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.json !== undefined) headers["content-type"] = "application/json";
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      const res = await fetch(bases[i % 2] + path, {
        method,
        headers,
        ...(opts.json !== undefined ? { body: JSON.stringify(opts.json) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    }

    async function signUp(): Promise<{ email: string; token: string; userId: string }> {
      const email = `mp-${randomUUID()}@example.test`;
      const reg = await api(0, "POST", "/v1/auth/register", { json: { email, password: PASSWORD } });
      expect(reg.status, JSON.stringify(reg.body)).toBe(201);
      const login = await api(1, "POST", "/v1/auth/login", { json: { email, password: PASSWORD } });
      expect(login.status, JSON.stringify(login.body)).toBe(200);
      return { email, token: login.body.session.token, userId: reg.body.user.id };
    }

    const statuses = (answers: Answer[]) =>
      answers.reduce<Record<string, number>>((acc, a) => {
        const key = `${a.status} ${a.body?.code ?? ""}`.trim();
        acc[key] = (acc[key] ?? 0) + 1;
        return acc;
      }, {});

    it("checks at most the per-user limit of 100 parallel wrong MFA codes split across both", async () => {
      const user = await signUp();
      // Enroll a factor (its verification is one MFA check of the user's limit).
      const start = await api(0, "POST", "/v1/mfa/totp", { token: user.token, json: {} });
      expect(start.status).toBe(201);
      const enrolled = await api(1, "POST", `/v1/mfa/totp/${start.body.factor.id}/verify`, {
        token: user.token,
        json: { code: totpCodeAt(start.body.secret, Date.now()) },
      });
      expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(200);
      // 20 challenges × 5 codes: no challenge dies of its own 5-failure cap first, so only the
      // shared per-user limit decides how many codes get checked.
      const challenges = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const res = await api(i, "POST", "/v1/auth/login", {
            json: { email: user.email, password: PASSWORD },
          });
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          return res.body.challenge.token as string;
        }),
      );
      const wrong = (i: number) => String((i * 7919) % 1_000_000).padStart(6, "0");
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          api(i, "POST", "/v1/auth/mfa/verify", {
            json: { challengeToken: challenges[i % 20], code: wrong(i) },
          }),
        ),
      );
      const seen = statuses(answers);
      const checked = seen["401 invalid_mfa_code"] ?? 0;
      expect(Object.keys(seen).sort(), JSON.stringify(seen)).toEqual(
        ["401 invalid_mfa_code", "429 rate_limited"].filter((k) => k in seen),
      );
      // Exactly the limit (the enrollment's right code gave its count back). These servers run on
      // the real clock: a window boundary in the middle of the burst may round one old attempt
      // away (the previous window's weight is floored), hence the one-attempt margin upward.
      const limit = DEFAULT_RATE_LIMITS.mfaPerUser.limit;
      expect(checked, JSON.stringify(seen)).toBeGreaterThanOrEqual(limit);
      expect(checked, JSON.stringify(seen)).toBeLessThanOrEqual(limit + 1);
      // The database agrees: one auth.mfa_failed event per checked code, whichever process wrote it.
      const { db, t } = backend!.open();
      const e = t.securityEvents;
      const [row] = await db
        .select({ n: count() })
        .from(e)
        .where(and(eq(e.userId, user.userId), eq(e.type, "auth.mfa_failed")));
      expect(Number(row?.n)).toBe(checked);
    });

    it("adds 200 parallel increments split across both exactly", async () => {
      const user = await signUp();
      const feature = `mp-${randomUUID().slice(0, 8)}`;
      const quantity = (i: number) => 1 + ((i * 31) % 97);
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          api(i, "POST", "/v1/usage", { token: user.token, json: { feature, quantity: quantity(i) } }),
        ),
      );
      expect(statuses(answers)).toEqual({ "200": 200 });
      const expected = Array.from({ length: 200 }, (_, i) => quantity(i)).reduce((a, b) => a + b, 0);
      // Every intermediate total was seen once: increments were serialized, none lost.
      expect(new Set(answers.map((a) => a.body.counter.total)).size).toBe(200);
      expect(Math.max(...answers.map((a) => a.body.counter.total))).toBe(expected);
      for (const i of [0, 1]) {
        const read = await api(i, "GET", `/v1/usage?feature=${feature}`, { token: user.token });
        expect(read.body.total).toBe(expected);
      }
    });

    it("counts concurrent duplicates of an Idempotency-Key once across both, all answered alike", async () => {
      const user = await signUp();
      const feature = `mp-idem-${randomUUID().slice(0, 8)}`;
      const keys = Array.from({ length: 20 }, (_, k) => ({
        key: `mp-${k}-${randomUUID()}`,
        quantity: 10 + k,
      }));
      const sends = keys.flatMap(({ key, quantity }) =>
        Array.from({ length: 10 }, (_, i) =>
          api(i, "POST", "/v1/usage", {
            token: user.token,
            json: { feature, quantity },
            headers: { "idempotency-key": key },
          }).then((answer) => ({ key, answer })),
        ),
      );
      const results = await Promise.all(sends);
      expect(statuses(results.map((r) => r.answer))).toEqual({ "200": 200 });
      for (const { key } of keys) {
        const totals = new Set(results.filter((r) => r.key === key).map((r) => r.answer.body.counter.total));
        expect(totals.size, `answers for ${key}`).toBe(1);
      }
      const expected = keys.reduce((sum, k) => sum + k.quantity, 0);
      const read = await api(0, "GET", `/v1/usage?feature=${feature}`, { token: user.token });
      expect(read.body.total).toBe(expected);
    });
  },
);

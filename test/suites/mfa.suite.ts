/** TOTP enrollment, enforcement at login, replay and race safety, recovery codes, factor management. */
import { expect, it } from "vitest";
import { createSqlRateLimiter } from "../../functions/ratelimit/sql";
import { RateLimitUnavailableError } from "../../functions/ratelimit/types";
import { signUp } from "../support/fixtures";
import { call, type Harness, makeHarness } from "../support/harness";
import { challenge, codeAt, enrollTotp, STEP_MS, stepStart } from "../support/mfa";

export function mfaSuite(h: () => Harness): void {
  const fresh = (env: Record<string, string> = {}) => {
    const m = makeHarness({ backend: h().backend, open: h().open, env });
    m.clock.set(stepStart());
    return m;
  };

  it("enrolls a TOTP factor: pending until a correct code, then verified with 10 recovery codes and aal 2", async () => {
    const m = fresh();
    const user = await signUp(m);
    const other = await call(m, "POST", "/v1/auth/login", {
      json: { email: user.email, password: user.password },
    });
    const start = await call(m, "POST", "/v1/mfa/totp", { token: user.token, json: { label: "phone" } });
    expect(start.status).toBe(201);
    expect(start.body.factor).toMatchObject({ type: "totp", status: "pending", label: "phone" });
    expect(start.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(start.body.otpauthUri).toContain("otpauth://totp/");
    expect(start.body.otpauthUri).toContain(encodeURIComponent(user.email));
    expect(start.body.qrSvg).toContain("<svg");
    const pending = await call(m, "GET", "/v1/mfa/factors", { token: user.token });
    expect(pending.body.factors).toEqual([
      expect.objectContaining({ id: start.body.factor.id, status: "pending" }),
    ]);

    const path = `/v1/mfa/totp/${start.body.factor.id}/verify`;
    const wrong = await call(m, "POST", path, { token: user.token, json: { code: "000000" } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe("invalid_mfa_code");
    const ok = await call(m, "POST", path, {
      token: user.token,
      json: { code: codeAt(start.body.secret, m.clock.now()) },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.factor.status).toBe("verified");
    expect(ok.body.recoveryCodes).toHaveLength(10);
    expect(new Set(ok.body.recoveryCodes).size).toBe(10);

    const me = await call(m, "GET", "/v1/me", { token: user.token });
    expect(me.body.session.aal).toBe(2);
    expect(me.body.mfa).toEqual({ enabled: true, verifiedFactors: 1, recoveryCodesRemaining: 10 });
    // Other sessions were revoked when the first factor was verified.
    expect((await call(m, "GET", "/v1/me", { token: other.body.session.token })).status).toBe(401);
    const status = await call(m, "GET", "/v1/mfa/recovery-codes", { token: user.token });
    expect(status.body).toEqual({ remaining: 10, createdAt: expect.any(String) });
  });

  it("requires the second factor at login: the challenge carries no session token", async () => {
    const m = fresh();
    const user = await signUp(m);
    const { secret } = await enrollTotp(m, user);
    const login = await call(m, "POST", "/v1/auth/login", {
      json: { email: user.email, password: user.password },
    });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({
      status: "mfa_required",
      challenge: {
        token: expect.any(String),
        expiresAt: expect.any(String),
        methods: ["totp", "recovery_code"],
      },
    });
    expect(JSON.stringify(login.body)).not.toContain("session");
    // The challenge token is not a session token.
    expect((await call(m, "GET", "/v1/me", { token: login.body.challenge.token })).status).toBe(401);
    m.clock.advance(STEP_MS);
    const verified = await call(m, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: login.body.challenge.token, code: codeAt(secret, m.clock.now()) },
    });
    expect(verified.status).toBe(200);
    expect(verified.body.session.aal).toBe(2);
    const types = (
      await call(m, "GET", "/v1/security-events", { token: verified.body.session.token })
    ).body.events.map((e: { type: string }) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        "mfa.totp_enrollment_started",
        "mfa.factor_verified",
        "auth.mfa_challenge_issued",
        "auth.mfa_succeeded",
        "auth.login_succeeded",
      ]),
    );
  });

  it("accepts the previous, current and next step and refuses two steps away", async () => {
    const m = fresh();
    const user = await signUp(m);
    const { secret } = await enrollTotp(m, user);
    const t0 = m.clock.now();
    const cases: [number, number, number][] = [
      // [clock offset in steps, code's step offset from the clock, expected status]
      [10, -1, 200],
      [20, 0, 200],
      [30, 1, 200],
      [40, -2, 401],
      [50, 2, 401],
    ];
    for (const [at, delta, expected] of cases) {
      m.clock.set(t0 + at * STEP_MS);
      const token = await challenge(m, user);
      const res = await call(m, "POST", "/v1/auth/mfa/verify", {
        json: { challengeToken: token, code: codeAt(secret, m.clock.now() + delta * STEP_MS) },
      });
      expect(res.status, `step ${delta}`).toBe(expected);
    }
  });

  it("refuses a code already accepted (replay), on a new challenge", async () => {
    const m = fresh();
    const user = await signUp(m);
    const { secret } = await enrollTotp(m, user);
    // The enrollment code's step is spent too.
    const enrollmentCode = codeAt(secret, m.clock.now());
    const first = await call(m, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: await challenge(m, user), code: enrollmentCode },
    });
    expect(first.status).toBe(401);
    m.clock.advance(STEP_MS);
    const code = codeAt(secret, m.clock.now());
    const ok = await call(m, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: await challenge(m, user), code },
    });
    expect(ok.status).toBe(200);
    const replay = await call(m, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: await challenge(m, user), code },
    });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe("invalid_mfa_code");
  });

  it("issues exactly one session for 20 parallel verifies of one valid code on 20 challenges", async () => {
    const m = fresh({ RATE_LIMIT_MFA_PER_USER: "100/900" });
    const user = await signUp(m);
    const { secret } = await enrollTotp(m, user);
    const tokens = await Promise.all(Array.from({ length: 20 }, () => challenge(m, user)));
    m.clock.advance(STEP_MS);
    const code = codeAt(secret, m.clock.now());
    const results = await Promise.all(
      tokens.map((challengeToken) =>
        call(m, "POST", "/v1/auth/mfa/verify", { json: { challengeToken, code } }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(19);
    const { db, t } = m.open();
    const { and, eq, isNull } = await import("drizzle-orm");
    const sessions = await db
      .select()
      .from(t.userSessions)
      .where(
        and(
          eq(t.userSessions.userId, user.userId),
          eq(t.userSessions.aal, 2),
          isNull(t.userSessions.revokedAt),
        ),
      );
    // The enrollment session (upgraded to aal 2) plus exactly one from the race.
    expect(sessions).toHaveLength(2);
  });

  it("spends a recovery code once, also under 20 parallel uses; input ignores case, spaces and dashes", async () => {
    const m = fresh({ RATE_LIMIT_MFA_PER_USER: "100/900" });
    const user = await signUp(m);
    const { recoveryCodes } = await enrollTotp(m, user);
    const [code, second] = recoveryCodes as [string, string];
    const tokens = await Promise.all(Array.from({ length: 20 }, () => challenge(m, user)));
    const results = await Promise.all(
      tokens.map((challengeToken) =>
        call(m, "POST", "/v1/auth/mfa/verify", { json: { challengeToken, recoveryCode: code } }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const sloppy = ` ${second.toUpperCase().replaceAll("-", " - ")} `;
    const ok = await call(m, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: await challenge(m, user), recoveryCode: sloppy },
    });
    expect(ok.status).toBe(200);
    const me = await call(m, "GET", "/v1/me", { token: ok.body.session.token });
    expect(me.body.mfa.recoveryCodesRemaining).toBe(8);
    const events = await call(m, "GET", "/v1/security-events?type=mfa.recovery_code_used", {
      token: ok.body.session.token,
    });
    expect(events.body.events).toHaveLength(2);
  });

  it("kills a challenge after 5 wrong codes (recovery codes included), when expired, and after use", async () => {
    const m = fresh();
    const user = await signUp(m);
    const { secret } = await enrollTotp(m, user);
    m.clock.advance(STEP_MS);
    const token = await challenge(m, user);
    for (let i = 0; i < 5; i++) {
      const wrong = await call(m, "POST", "/v1/auth/mfa/verify", {
        json:
          i % 2
            ? { challengeToken: token, code: "000000" }
            : { challengeToken: token, recoveryCode: "aaaa-bbbb-cccc" },
      });
      expect(wrong.body.code).toBe("invalid_mfa_code");
    }
    const dead = await call(m, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: token, code: codeAt(secret, m.clock.now()) },
    });
    expect(dead.status).toBe(401);
    expect(dead.body.code).toBe("invalid_challenge");

    const expiring = await challenge(m, user);
    m.clock.advance(5 * 60_000 + 1000);
    const expired = await call(m, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: expiring, code: codeAt(secret, m.clock.now()) },
    });
    expect(expired.body.code).toBe("invalid_challenge");

    const once = await challenge(m, user);
    m.clock.advance(STEP_MS);
    const used = await call(m, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: once, code: codeAt(secret, m.clock.now()) },
    });
    expect(used.status).toBe(200);
    m.clock.advance(STEP_MS);
    const again = await call(m, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: once, code: codeAt(secret, m.clock.now()) },
    });
    expect(again.body.code).toBe("invalid_challenge");
    const unknown = await call(m, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: "nope", code: "123456" },
    });
    expect(unknown.body.code).toBe("invalid_challenge");
  });

  it("binds a challenge to its user: another user's valid code is refused", async () => {
    const m = fresh();
    const alice = await signUp(m);
    const bob = await signUp(m);
    await enrollTotp(m, alice);
    const bobFactor = await enrollTotp(m, bob);
    m.clock.advance(STEP_MS);
    const res = await call(m, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: await challenge(m, alice), code: codeAt(bobFactor.secret, m.clock.now()) },
    });
    expect(res.body.code).toBe("invalid_mfa_code");
  });

  it("validates mfa/verify: exactly one of code and recoveryCode", async () => {
    for (const json of [
      { challengeToken: "x" },
      { challengeToken: "x", code: "123456", recoveryCode: "a" },
      { challengeToken: "x", code: "12345" },
    ]) {
      const res = await call(h(), "POST", "/v1/auth/mfa/verify", { json });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe("invalid_request");
    }
  });

  it("checks at most the configured number of 100 parallel wrong codes, across two app instances", async () => {
    const env = { RATE_LIMIT_MFA_PER_USER: "10/900" };
    const a = fresh(env);
    // A second instance of the same deployment: same secrets, same database and store.
    const b = makeHarness({ backend: h().backend, open: h().open, config: a.config });
    b.clock.set(a.clock.now());
    const user = await signUp(a);
    const { secret } = await enrollTotp(a, user);
    const before = await mfaFailures(a, user.userId);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        call(i % 2 ? a : b, "POST", "/v1/mfa/recovery-codes", {
          token: user.token,
          json: { code: "000000" },
        }),
      ),
    );
    const checked = results.filter((r) => r.status === 401).length;
    expect(checked).toBeLessThanOrEqual(9); // the enrollment verify used one of the 10
    expect(results.filter((r) => r.status === 429).length).toBe(100 - checked);
    expect((await mfaFailures(a, user.userId)) - before).toBe(checked);
    const limited = results.find((r) => r.status === 429)!;
    expect(limited.headers.get("retry-after")).toBeTruthy();
    // A correct code is refused too, until the window has passed.
    a.clock.advance(STEP_MS);
    const token = await challenge(a, user);
    const refused = await call(a, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: token, code: codeAt(secret, a.clock.now()) },
    });
    expect(refused.status).toBe(429);
    a.clock.advance(31 * 60_000);
    const later = await call(a, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: await challenge(a, user), code: codeAt(secret, a.clock.now()) },
    });
    expect(later.status).toBe(200);
  });

  it("fails closed: a rate-limit store that is down gives 503 and no session", async () => {
    const m = fresh();
    const user = await signUp(m);
    const { secret } = await enrollTotp(m, user);
    const token = await challenge(m, user);
    const down = makeHarness({
      backend: h().backend,
      open: h().open,
      rateLimiter: (db, clock) => ({
        ...createSqlRateLimiter(db, clock.now),
        limit: async () => {
          throw new RateLimitUnavailableError("down");
        },
      }),
    });
    down.clock.set(m.clock.now() + STEP_MS);
    const res = await call(down, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: token, code: codeAt(secret, down.clock.now()) },
    });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe("rate_limit_unavailable");
    expect(JSON.stringify(res.body)).not.toContain("session");
    // The code was not checked (its step is still unspent) and the challenge still works.
    m.clock.set(down.clock.now());
    const ok = await call(m, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: token, code: codeAt(secret, m.clock.now()) },
    });
    expect(ok.status).toBe(200);
  });

  it("enforces the second factor at password reset: nothing changes without it", async () => {
    const m = fresh({ APP_ENV: "development" });
    const user = await signUp(m);
    const { secret, recoveryCodes } = await enrollTotp(m, user);
    const forgot = async () => {
      await call(m, "POST", "/v1/auth/password/forgot", { json: { email: user.email } });
      const messages = (await call(m, "GET", `/v1/dev/outbox?to=${user.email}`)).body.messages;
      return messages[messages.length - 1].token as string;
    };
    const token = await forgot();
    const newPassword = "a brand new passphrase";
    const missing = await call(m, "POST", "/v1/auth/password/reset", { json: { token, newPassword } });
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe("mfa_required");
    expect(JSON.stringify(missing.body)).not.toContain("session");
    // Nothing changed: the old password still logs in (to a challenge).
    await challenge(m, user);
    const wrong = await call(m, "POST", "/v1/auth/password/reset", {
      json: { token, newPassword, code: "000000" },
    });
    expect(wrong.body.code).toBe("invalid_mfa_code");
    m.clock.advance(STEP_MS);
    const ok = await call(m, "POST", "/v1/auth/password/reset", {
      json: { token, newPassword, code: codeAt(secret, m.clock.now()) },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.session.aal).toBe(2);
    // And with a recovery code.
    const second = await forgot();
    const viaCode = await call(m, "POST", "/v1/auth/password/reset", {
      json: { token: second, newPassword: "yet another passphrase", recoveryCode: recoveryCodes[0] },
    });
    expect(viaCode.status).toBe(200);
    expect(viaCode.body.session.aal).toBe(2);
  });

  it("counts reset attempts without a code and with a wrong one against the per-user MFA limit", async () => {
    const m = fresh({
      APP_ENV: "development",
      RATE_LIMIT_MFA_PER_USER: "3/900",
      PASSWORD_RESET_TTL_SECONDS: "7200",
    });
    const user = await signUp(m);
    const { secret } = await enrollTotp(m, user); // one check
    await call(m, "POST", "/v1/auth/password/forgot", { json: { email: user.email } });
    const [message] = (await call(m, "GET", `/v1/dev/outbox?to=${user.email}`)).body.messages;
    const newPassword = "a brand new passphrase";
    const missing = await call(m, "POST", "/v1/auth/password/reset", {
      json: { token: message.token, newPassword },
    });
    expect(missing.body.code).toBe("mfa_required");
    const wrong = await call(m, "POST", "/v1/auth/password/reset", {
      json: { token: message.token, newPassword, code: "000000" },
    });
    expect(wrong.body.code).toBe("invalid_mfa_code");
    m.clock.advance(STEP_MS);
    const limited = await call(m, "POST", "/v1/auth/password/reset", {
      json: { token: message.token, newPassword, code: codeAt(secret, m.clock.now()) },
    });
    expect(limited.status).toBe(429);
    // Nothing changed: the token is unspent and works once the sliding window has passed.
    m.clock.advance(31 * 60_000);
    const ok = await call(m, "POST", "/v1/auth/password/reset", {
      json: { token: message.token, newPassword, code: codeAt(secret, m.clock.now()) },
    });
    expect(ok.status).toBe(200);
  });

  it("needs aal 2 to add a factor; later factors get no recovery codes", async () => {
    const m = fresh();
    const user = await signUp(m);
    await enrollTotp(m, user);
    // The enrolling session was upgraded to aal 2, so a second factor can be added from it.
    const second = await enrollTotp(m, user, "backup");
    expect(second.recoveryCodes).toEqual([]);
    const me = await call(m, "GET", "/v1/me", { token: user.token });
    expect(me.body.mfa.verifiedFactors).toBe(2);
    // An aal-1 session of a user with a verified factor is refused (made directly: the API never issues one).
    const { db, t } = m.open();
    const { eq } = await import("drizzle-orm");
    await db.update(t.userSessions).set({ aal: 1 }).where(eq(t.userSessions.id, user.sessionId));
    const refused = await call(m, "POST", "/v1/mfa/totp", { token: user.token, json: {} });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("aal2_required");
  });

  it("removes factors: pending freely, verified with a code; the last one takes the recovery codes along", async () => {
    const m = fresh();
    const user = await signUp(m);
    const { factorId, secret } = await enrollTotp(m, user);
    const pending = await call(m, "POST", "/v1/mfa/totp", { token: user.token });
    expect(pending.status).toBe(201);
    expect(
      (await call(m, "DELETE", `/v1/mfa/factors/${pending.body.factor.id}`, { token: user.token })).status,
    ).toBe(204);

    const path = `/v1/mfa/factors/${factorId}`;
    const noCode = await call(m, "DELETE", path, { token: user.token });
    expect(noCode.status).toBe(400);
    const wrong = await call(m, "DELETE", path, { token: user.token, json: { code: "000000" } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe("invalid_mfa_code");
    expect(
      (await call(m, "DELETE", `/v1/mfa/factors/${crypto.randomUUID()}`, { token: user.token })).status,
    ).toBe(404);
    m.clock.advance(STEP_MS);
    const ok = await call(m, "DELETE", path, {
      token: user.token,
      json: { code: codeAt(secret, m.clock.now()) },
    });
    expect(ok.status).toBe(204);
    expect((await call(m, "GET", "/v1/mfa/recovery-codes", { token: user.token })).body).toEqual({
      remaining: 0,
      createdAt: null,
    });
    const me = await call(m, "GET", "/v1/me", { token: user.token });
    expect(me.body.mfa).toEqual({ enabled: false, verifiedFactors: 0, recoveryCodesRemaining: 0 });
    const login = await call(m, "POST", "/v1/auth/login", {
      json: { email: user.email, password: user.password },
    });
    expect(login.body.status).toBe("authenticated");
    const events = await call(m, "GET", "/v1/security-events?type=mfa.factor_removed", { token: user.token });
    expect(events.body.events).toHaveLength(2);
  });

  it("regenerates recovery codes with a code: every older code stops working", async () => {
    const m = fresh();
    const user = await signUp(m);
    const { secret, recoveryCodes } = await enrollTotp(m, user);
    expect((await call(m, "POST", "/v1/mfa/recovery-codes", { token: user.token, json: {} })).status).toBe(
      400,
    );
    m.clock.advance(STEP_MS);
    const res = await call(m, "POST", "/v1/mfa/recovery-codes", {
      token: user.token,
      json: { code: codeAt(secret, m.clock.now()) },
    });
    expect(res.status).toBe(201);
    expect(res.body.recoveryCodes).toHaveLength(10);
    const old = await call(m, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: await challenge(m, user), recoveryCode: recoveryCodes[0] },
    });
    expect(old.body.code).toBe("invalid_mfa_code");
    const fresh2 = await call(m, "POST", "/v1/auth/mfa/verify", {
      json: { challengeToken: await challenge(m, user), recoveryCode: res.body.recoveryCodes[0] },
    });
    expect(fresh2.status).toBe(200);
    const spentAll = await call(m, "GET", "/v1/mfa/recovery-codes", { token: user.token });
    expect(spentAll.body).toEqual({ remaining: 9, createdAt: expect.any(String) });
  });
}

async function mfaFailures(h: Harness, userId: string): Promise<number> {
  const { db, t } = h.open();
  const { and, eq } = await import("drizzle-orm");
  const rows = await db
    .select()
    .from(t.securityEvents)
    .where(and(eq(t.securityEvents.userId, userId), eq(t.securityEvents.type, "auth.mfa_failed")));
  return rows.length;
}

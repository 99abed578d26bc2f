/** TOTP enrollment, enforcement at login, replay and race safety, recovery codes, factor management. */
import type { InferRequestType } from "hono/client";
import { expect, it } from "vitest";
import { createSqlRateLimiter } from "../../functions/ratelimit/sql";
import { RateLimitUnavailableError } from "../../functions/ratelimit/types";
import { devOutbox, signUp } from "../support/fixtures";
import { api, call, expectStatus, type Harness, makeHarness } from "../support/harness";
import { challenge, codeAt, enrollTotp, STEP_MS, stepStart } from "../support/mfa";

type Client = ReturnType<typeof api>;
type VerifyBody = InferRequestType<Client["v1"]["auth"]["mfa"]["verify"]["$post"]>["json"];
type ResetBody = InferRequestType<Client["v1"]["auth"]["password"]["reset"]["$post"]>["json"];

export function mfaSuite(h: () => Harness): void {
  const fresh = (env: Record<string, string> = {}) => {
    const m = makeHarness({ backend: h().backend, open: h().open, env });
    m.clock.set(stepStart());
    return m;
  };
  const verifyChallenge = (m: Harness, json: VerifyBody) => api(m).v1.auth.mfa.verify.$post({ json });
  const resetPassword = (m: Harness, json: ResetBody) => api(m).v1.auth.password.reset.$post({ json });

  it("enrolls a TOTP factor: pending until a correct code, then verified with 10 recovery codes and aal 2", async () => {
    const m = fresh();
    const user = await signUp(m);
    const other = await expectStatus(
      api(m).v1.auth.login.$post({ json: { email: user.email, password: user.password } }),
      200,
    );
    if (other.status !== "authenticated") throw new Error("expected a session");
    const start = await expectStatus(api(m, user.token).v1.mfa.totp.$post({ json: { label: "phone" } }), 201);
    expect(start.factor).toMatchObject({ type: "totp", status: "pending", label: "phone" });
    expect(start.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(start.otpauthUri).toContain("otpauth://totp/");
    expect(start.otpauthUri).toContain(encodeURIComponent(user.email));
    expect(start.qrSvg).toContain("<svg");
    const pending = await expectStatus(api(m, user.token).v1.mfa.factors.$get(), 200);
    expect(pending.factors).toEqual([expect.objectContaining({ id: start.factor.id, status: "pending" })]);

    const verify = (code: string) =>
      api(m, user.token).v1.mfa.totp[":factorId"].verify.$post({
        param: { factorId: start.factor.id },
        json: { code },
      });
    const wrong = await expectStatus(verify("000000"), 401);
    expect(wrong.code).toBe("invalid_mfa_code");
    const ok = await expectStatus(verify(codeAt(start.secret, m.clock.now())), 200);
    expect(ok.factor.status).toBe("verified");
    expect(ok.recoveryCodes).toHaveLength(10);
    expect(new Set(ok.recoveryCodes).size).toBe(10);

    const me = await expectStatus(api(m, user.token).v1.me.$get(), 200);
    expect(me.session.aal).toBe(2);
    expect(me.mfa).toEqual({ enabled: true, verifiedFactors: 1, recoveryCodesRemaining: 10 });
    // Other sessions were revoked when the first factor was verified.
    await expectStatus(api(m, other.session.token).v1.me.$get(), 401);
    const status = await expectStatus(api(m, user.token).v1.mfa["recovery-codes"].$get(), 200);
    expect(status).toEqual({ remaining: 10, createdAt: expect.any(String) });
  });

  it("confirms a pending factor once under 20 parallel verifies: one 200 with codes, one of every write", async () => {
    const m = fresh({ RATE_LIMIT_MFA_PER_USER: "100/900", RATE_LIMIT_MFA_PER_NETWORK: "100/900" });
    const user = await signUp(m);
    const other = await expectStatus(
      api(m).v1.auth.login.$post({ json: { email: user.email, password: user.password } }),
      200,
    );
    if (other.status !== "authenticated") throw new Error("expected a session");
    const start = await expectStatus(api(m, user.token).v1.mfa.totp.$post({ json: {} }), 201);
    const code = codeAt(start.secret, m.clock.now());
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        api(m, user.token).v1.mfa.totp[":factorId"].verify.$post({
          param: { factorId: start.factor.id },
          json: { code },
        }),
      ),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    // The others found the factor confirmed (404) or, in the same instant, the step spent (401).
    expect(statuses.filter((s) => s !== 200 && s !== 404 && s !== 401)).toEqual([]);
    const winner = (await answers.find((r) => r.status === 200)!.json()) as { recoveryCodes?: string[] };
    expect(winner.recoveryCodes).toHaveLength(10);

    const { db, t } = m.open();
    const { and, eq, isNull } = await import("drizzle-orm");
    const [factor] = await db.select().from(t.userMfaMethods).where(eq(t.userMfaMethods.id, start.factor.id));
    expect(factor?.status).toBe("verified");
    const codes = await db
      .select()
      .from(t.userRecoveryCodes)
      .where(eq(t.userRecoveryCodes.userId, user.userId));
    expect(codes).toHaveLength(10);
    const events = await db
      .select()
      .from(t.securityEvents)
      .where(and(eq(t.securityEvents.userId, user.userId), eq(t.securityEvents.type, "mfa.factor_verified")));
    expect(events).toHaveLength(1);
    const notices = await db
      .select()
      .from(t.outboxMessages)
      .where(and(eq(t.outboxMessages.userId, user.userId), eq(t.outboxMessages.kind, "security_notice")));
    expect(notices).toHaveLength(1);
    // The confirming session is aal 2 and the only live one: the other was revoked.
    const live = await db
      .select()
      .from(t.userSessions)
      .where(and(eq(t.userSessions.userId, user.userId), isNull(t.userSessions.revokedAt)));
    expect(live.map((row) => row.aal)).toEqual([2]);
    await expectStatus(api(m, other.session.token).v1.me.$get(), 401);
    // The winner's codes are the stored ones: one of them is accepted as a second factor.
    const recoveryCode = winner.recoveryCodes![0]!;
    await expectStatus(api(m, user.token).v1.mfa["recovery-codes"].$post({ json: { recoveryCode } }), 201);
  });

  it("requires the second factor at login: the challenge carries no session token", async () => {
    const m = fresh();
    const user = await signUp(m);
    const { secret } = await enrollTotp(m, user);
    const login = await expectStatus(
      api(m).v1.auth.login.$post({ json: { email: user.email, password: user.password } }),
      200,
    );
    expect(login).toEqual({
      status: "mfa_required",
      challenge: {
        token: expect.any(String),
        expiresAt: expect.any(String),
        methods: ["totp", "recovery_code"],
      },
    });
    expect(JSON.stringify(login)).not.toContain("session");
    if (login.status !== "mfa_required") throw new Error("expected an MFA challenge");
    // The challenge token is not a session token.
    await expectStatus(api(m, login.challenge.token).v1.me.$get(), 401);
    m.clock.advance(STEP_MS);
    const verified = await expectStatus(
      verifyChallenge(m, { challengeToken: login.challenge.token, code: codeAt(secret, m.clock.now()) }),
      200,
    );
    expect(verified.session.aal).toBe(2);
    const events = await expectStatus(
      api(m, verified.session.token).v1["security-events"].$get({ query: {} }),
      200,
    );
    expect(events.events.map((e) => e.type)).toEqual(
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
      const res = await verifyChallenge(m, {
        challengeToken: token,
        code: codeAt(secret, m.clock.now() + delta * STEP_MS),
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
    await expectStatus(
      verifyChallenge(m, { challengeToken: await challenge(m, user), code: enrollmentCode }),
      401,
    );
    m.clock.advance(STEP_MS);
    const code = codeAt(secret, m.clock.now());
    await expectStatus(verifyChallenge(m, { challengeToken: await challenge(m, user), code }), 200);
    const replay = await expectStatus(
      verifyChallenge(m, { challengeToken: await challenge(m, user), code }),
      401,
    );
    expect(replay.code).toBe("invalid_mfa_code");
  });

  it("issues exactly one session for 20 parallel verifies of one valid code on 20 challenges", async () => {
    // The 20 challenges come from 20 concurrent password logins (attempts are counted while
    // in flight, so the per-(account, network) limit is raised for them).
    const m = fresh({
      RATE_LIMIT_MFA_PER_USER: "100/900",
      RATE_LIMIT_PASSWORD_PER_ACCOUNT_NETWORK: "100/900",
    });
    const user = await signUp(m);
    const { secret } = await enrollTotp(m, user);
    const tokens = await Promise.all(Array.from({ length: 20 }, () => challenge(m, user)));
    m.clock.advance(STEP_MS);
    const code = codeAt(secret, m.clock.now());
    const results = await Promise.all(
      tokens.map((challengeToken) => verifyChallenge(m, { challengeToken, code })),
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
    // The 20 challenges come from 20 concurrent password logins (attempts are counted while
    // in flight, so the per-(account, network) limit is raised for them).
    const m = fresh({
      RATE_LIMIT_MFA_PER_USER: "100/900",
      RATE_LIMIT_PASSWORD_PER_ACCOUNT_NETWORK: "100/900",
    });
    const user = await signUp(m);
    const { recoveryCodes } = await enrollTotp(m, user);
    const [code, second] = recoveryCodes as [string, string];
    const tokens = await Promise.all(Array.from({ length: 20 }, () => challenge(m, user)));
    const results = await Promise.all(
      tokens.map((challengeToken) => verifyChallenge(m, { challengeToken, recoveryCode: code })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const sloppy = ` ${second.toUpperCase().replaceAll("-", " - ")} `;
    const ok = await expectStatus(
      verifyChallenge(m, { challengeToken: await challenge(m, user), recoveryCode: sloppy }),
      200,
    );
    const me = await expectStatus(api(m, ok.session.token).v1.me.$get(), 200);
    expect(me.mfa.recoveryCodesRemaining).toBe(8);
    const events = await expectStatus(
      api(m, ok.session.token).v1["security-events"].$get({ query: { type: "mfa.recovery_code_used" } }),
      200,
    );
    expect(events.events).toHaveLength(2);
  });

  it("kills a challenge after 5 wrong codes (recovery codes included), when expired, and after use", async () => {
    const m = fresh();
    const user = await signUp(m);
    const { secret } = await enrollTotp(m, user);
    m.clock.advance(STEP_MS);
    const token = await challenge(m, user);
    for (let i = 0; i < 5; i++) {
      const wrong = await expectStatus(
        verifyChallenge(
          m,
          i % 2
            ? { challengeToken: token, code: "000000" }
            : { challengeToken: token, recoveryCode: "aaaa-bbbb-cccc" },
        ),
        401,
      );
      expect(wrong.code).toBe("invalid_mfa_code");
    }
    const dead = await expectStatus(
      verifyChallenge(m, { challengeToken: token, code: codeAt(secret, m.clock.now()) }),
      401,
    );
    expect(dead.code).toBe("invalid_challenge");

    const expiring = await challenge(m, user);
    m.clock.advance(5 * 60_000 + 1000);
    const expired = await expectStatus(
      verifyChallenge(m, { challengeToken: expiring, code: codeAt(secret, m.clock.now()) }),
      401,
    );
    expect(expired.code).toBe("invalid_challenge");

    const once = await challenge(m, user);
    m.clock.advance(STEP_MS);
    await expectStatus(
      verifyChallenge(m, { challengeToken: once, code: codeAt(secret, m.clock.now()) }),
      200,
    );
    m.clock.advance(STEP_MS);
    const again = await expectStatus(
      verifyChallenge(m, { challengeToken: once, code: codeAt(secret, m.clock.now()) }),
      401,
    );
    expect(again.code).toBe("invalid_challenge");
    const unknown = await expectStatus(verifyChallenge(m, { challengeToken: "nope", code: "123456" }), 401);
    expect(unknown.code).toBe("invalid_challenge");
  });

  it("binds a challenge to its user: another user's valid code is refused", async () => {
    const m = fresh();
    const alice = await signUp(m);
    const bob = await signUp(m);
    await enrollTotp(m, alice);
    const bobFactor = await enrollTotp(m, bob);
    m.clock.advance(STEP_MS);
    const res = await expectStatus(
      verifyChallenge(m, {
        challengeToken: await challenge(m, alice),
        code: codeAt(bobFactor.secret, m.clock.now()),
      }),
      401,
    );
    expect(res.code).toBe("invalid_mfa_code");
  });

  it("validates mfa/verify: exactly one of code and recoveryCode", async () => {
    for (const json of [
      { challengeToken: "x" },
      { challengeToken: "x", code: "123456", recoveryCode: "a" },
      { challengeToken: "x", code: "12345" },
    ]) {
      const res = await expectStatus(verifyChallenge(h(), json), 400);
      expect(res.code).toBe("invalid_request");
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
        api(i % 2 ? a : b, user.token).v1.mfa["recovery-codes"].$post({ json: { code: "000000" } }),
      ),
    );
    const checked = results.filter((r) => r.status === 401).length;
    // Exactly the limit: the enrollment's right code gave its count back.
    expect(checked).toBe(10);
    expect(results.filter((r) => r.status === 429).length).toBe(90);
    expect((await mfaFailures(a, user.userId)) - before).toBe(checked);
    const limited = results.find((r) => r.status === 429)!;
    expect(limited.headers.get("retry-after")).toBeTruthy();
    // A correct code is refused too, until the window has passed.
    a.clock.advance(STEP_MS);
    const token = await challenge(a, user);
    await expectStatus(
      verifyChallenge(a, { challengeToken: token, code: codeAt(secret, a.clock.now()) }),
      429,
    );
    a.clock.advance(31 * 60_000);
    await expectStatus(
      verifyChallenge(a, { challengeToken: await challenge(a, user), code: codeAt(secret, a.clock.now()) }),
      200,
    );
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
    const res = await expectStatus(
      verifyChallenge(down, { challengeToken: token, code: codeAt(secret, down.clock.now()) }),
      503,
    );
    expect(res.code).toBe("rate_limit_unavailable");
    expect(JSON.stringify(res)).not.toContain("session");
    // The code was not checked (its step is still unspent) and the challenge still works.
    m.clock.set(down.clock.now());
    await expectStatus(
      verifyChallenge(m, { challengeToken: token, code: codeAt(secret, m.clock.now()) }),
      200,
    );
  });

  it("enforces the second factor at password reset: nothing changes without it", async () => {
    const m = fresh({ APP_ENV: "development" });
    const user = await signUp(m);
    const { secret, recoveryCodes } = await enrollTotp(m, user);
    const forgot = async () => {
      await api(m).v1.auth.password.forgot.$post({ json: { email: user.email } });
      const messages = await devOutbox(m, user.email);
      return messages.at(-1)?.token ?? "";
    };
    const token = await forgot();
    const newPassword = "a brand new passphrase";
    const missing = await expectStatus(resetPassword(m, { token, newPassword }), 401);
    expect(missing.code).toBe("mfa_required");
    expect(JSON.stringify(missing)).not.toContain("session");
    // Nothing changed: the old password still logs in (to a challenge).
    await challenge(m, user);
    const wrong = await expectStatus(resetPassword(m, { token, newPassword, code: "000000" }), 401);
    expect(wrong.code).toBe("invalid_mfa_code");
    m.clock.advance(STEP_MS);
    const ok = await expectStatus(
      resetPassword(m, { token, newPassword, code: codeAt(secret, m.clock.now()) }),
      200,
    );
    expect(ok.session.aal).toBe(2);
    // And with a recovery code.
    const second = await forgot();
    const viaCode = await expectStatus(
      resetPassword(m, {
        token: second,
        newPassword: "yet another passphrase",
        recoveryCode: recoveryCodes[0],
      }),
      200,
    );
    expect(viaCode.session.aal).toBe(2);
  });

  it("counts reset attempts without a code and with a wrong one against the per-user MFA limit", async () => {
    const m = fresh({
      APP_ENV: "development",
      RATE_LIMIT_MFA_PER_USER: "2/900",
      PASSWORD_RESET_TTL_SECONDS: "7200",
    });
    const user = await signUp(m);
    const { secret } = await enrollTotp(m, user); // a right code: not counted
    await api(m).v1.auth.password.forgot.$post({ json: { email: user.email } });
    const [message] = await devOutbox(m, user.email);
    if (!message) throw new Error("no reset message");
    const newPassword = "a brand new passphrase";
    const missing = await expectStatus(resetPassword(m, { token: message.token, newPassword }), 401);
    expect(missing.code).toBe("mfa_required");
    const wrong = await expectStatus(
      resetPassword(m, { token: message.token, newPassword, code: "000000" }),
      401,
    );
    expect(wrong.code).toBe("invalid_mfa_code");
    m.clock.advance(STEP_MS);
    await expectStatus(
      resetPassword(m, { token: message.token, newPassword, code: codeAt(secret, m.clock.now()) }),
      429,
    );
    // Nothing changed: the token is unspent and works once the sliding window has passed.
    m.clock.advance(31 * 60_000);
    await expectStatus(
      resetPassword(m, { token: message.token, newPassword, code: codeAt(secret, m.clock.now()) }),
      200,
    );
  });

  it("needs aal 2 to add a factor; later factors get no recovery codes", async () => {
    const m = fresh();
    const user = await signUp(m);
    await enrollTotp(m, user);
    // The enrolling session was upgraded to aal 2, so a second factor can be added from it.
    const second = await enrollTotp(m, user, "backup");
    expect(second.recoveryCodes).toEqual([]);
    const me = await expectStatus(api(m, user.token).v1.me.$get(), 200);
    expect(me.mfa.verifiedFactors).toBe(2);
    // An aal-1 session of a user with a verified factor is refused (made directly: the API never issues one).
    const { db, t } = m.open();
    const { eq } = await import("drizzle-orm");
    await db.update(t.userSessions).set({ aal: 1 }).where(eq(t.userSessions.id, user.sessionId));
    const refused = await expectStatus(api(m, user.token).v1.mfa.totp.$post({ json: {} }), 403);
    expect(refused.code).toBe("aal2_required");
  });

  it("removes factors: pending freely, verified with a code; the last one takes the recovery codes along", async () => {
    const m = fresh();
    const user = await signUp(m);
    const { factorId, secret } = await enrollTotp(m, user);
    // Without a body (it is optional there), which the typed client cannot send: call().
    const pending = await call(m, "POST", "/v1/mfa/totp", { token: user.token });
    expect(pending.status).toBe(201);
    expect(
      (await call(m, "DELETE", `/v1/mfa/factors/${pending.body.factor.id}`, { token: user.token })).status,
    ).toBe(204);

    const client = api(m, user.token);
    const factor = client.v1.mfa.factors[":factorId"];
    const path = `/v1/mfa/factors/${factorId}`;
    const noCode = await call(m, "DELETE", path, { token: user.token });
    expect(noCode.status).toBe(400);
    const wrong = await expectStatus(factor.$delete({ param: { factorId }, json: { code: "000000" } }), 401);
    expect(wrong.code).toBe("invalid_mfa_code");
    expect(
      (await call(m, "DELETE", `/v1/mfa/factors/${crypto.randomUUID()}`, { token: user.token })).status,
    ).toBe(404);
    m.clock.advance(STEP_MS);
    await expectStatus(
      factor.$delete({ param: { factorId }, json: { code: codeAt(secret, m.clock.now()) } }),
      204,
    );
    expect(await expectStatus(client.v1.mfa["recovery-codes"].$get(), 200)).toEqual({
      remaining: 0,
      createdAt: null,
    });
    const me = await expectStatus(client.v1.me.$get(), 200);
    expect(me.mfa).toEqual({ enabled: false, verifiedFactors: 0, recoveryCodesRemaining: 0 });
    const login = await expectStatus(
      api(m).v1.auth.login.$post({ json: { email: user.email, password: user.password } }),
      200,
    );
    expect(login.status).toBe("authenticated");
    const events = await expectStatus(
      client.v1["security-events"].$get({ query: { type: "mfa.factor_removed" } }),
      200,
    );
    expect(events.events).toHaveLength(2);
  });

  it("regenerates recovery codes with a code: every older code stops working", async () => {
    const m = fresh();
    const user = await signUp(m);
    const { secret, recoveryCodes } = await enrollTotp(m, user);
    const codes = api(m, user.token).v1.mfa["recovery-codes"];
    await expectStatus(codes.$post({ json: {} }), 400);
    m.clock.advance(STEP_MS);
    const res = await expectStatus(codes.$post({ json: { code: codeAt(secret, m.clock.now()) } }), 201);
    expect(res.recoveryCodes).toHaveLength(10);
    const old = await expectStatus(
      verifyChallenge(m, { challengeToken: await challenge(m, user), recoveryCode: recoveryCodes[0] }),
      401,
    );
    expect(old.code).toBe("invalid_mfa_code");
    await expectStatus(
      verifyChallenge(m, { challengeToken: await challenge(m, user), recoveryCode: res.recoveryCodes[0] }),
      200,
    );
    const spentAll = await expectStatus(codes.$get(), 200);
    expect(spentAll).toEqual({ remaining: 9, createdAt: expect.any(String) });
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

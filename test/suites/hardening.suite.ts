/**
 * What a security review found (hardening II), each as a test through the HTTP interface:
 * step-up before enrolling a factor, sessions that cannot race the first factor, resets that
 * end open challenges, hashes that cannot be compared across purposes, no-store, and input a
 * database cannot hold.
 */
import { expect, it } from "vitest";
import { devOutbox, PASSWORD, signUp, uniqueEmail } from "../support/fixtures";
import {
  api,
  call,
  DEFAULT_TEST_IP,
  expectStatus,
  type Harness,
  makeHarness,
  TEST_IP_HEADER,
} from "../support/harness";
import { challenge, codeAt, enrollTotp } from "../support/mfa";

const MINUTE = 60_000;

export function hardeningSuite(h: () => Harness): void {
  const fresh = (env: Record<string, string> = {}) => {
    const m = makeHarness({ backend: h().backend, open: h().open, env });
    m.clock.set(h().clock.now());
    return m;
  };

  it("needs a recent authentication to enroll a factor: a stale session gets 403, currentPassword lifts it", async () => {
    const m = fresh();
    const user = await signUp(m);
    const me = await expectStatus(api(m, user.token).v1.me.$get(), 200);
    expect(me.session.authenticatedAt).toBe(new Date(m.clock.now()).toISOString());
    m.clock.advance(6 * MINUTE);
    const stale = await expectStatus(api(m, user.token).v1.mfa.totp.$post({ json: {} }), 403);
    expect(stale.code).toBe("reauthentication_required");
    const wrong = await expectStatus(
      api(m, user.token).v1.mfa.totp.$post({ json: { currentPassword: "not my password" } }),
      401,
    );
    expect(wrong.code).toBe("invalid_credentials");
    await expectStatus(api(m, user.token).v1.mfa.totp.$post({ json: { currentPassword: PASSWORD } }), 201);
    const events = await expectStatus(
      api(m, user.token).v1["security-events"].$get({ query: { type: "auth.reauthenticated" } }),
      200,
    );
    expect(events.events).toHaveLength(1);
    // The check refreshed the session's authentication: enrolling again needs no password now.
    const after = await expectStatus(api(m, user.token).v1.me.$get(), 200);
    expect(after.session.authenticatedAt).toBe(new Date(m.clock.now()).toISOString());
    await expectStatus(api(m, user.token).v1.mfa.totp.$post({ json: {} }), 201);
  });

  it("counts a wrong currentPassword as a failed password", async () => {
    const m = fresh({ RATE_LIMIT_PASSWORD_PER_ACCOUNT_NETWORK: "2/900" });
    const user = await signUp(m);
    for (let i = 0; i < 2; i++) {
      await expectStatus(
        api(m, user.token).v1.mfa.totp.$post({ json: { currentPassword: "wrong one!" } }),
        401,
      );
    }
    const limited = await expectStatus(
      api(m, user.token).v1.mfa.totp.$post({ json: { currentPassword: PASSWORD } }),
      429,
    );
    expect(limited.limit).toBe("password_account_network");
  });

  it("keeps no password-only session when logins race the verification of the first factor", async () => {
    const m = fresh();
    for (let round = 0; round < 3; round++) {
      const user = await signUp(m);
      const start = await expectStatus(api(m, user.token).v1.mfa.totp.$post({ json: {} }), 201);
      const logins = Array.from({ length: 8 }, () =>
        api(m).v1.auth.login.$post({ json: { email: user.email, password: PASSWORD } }),
      );
      const verify = api(m, user.token).v1.mfa.totp[":factorId"].verify.$post({
        param: { factorId: start.factor.id },
        json: { code: codeAt(start.secret, m.clock.now()) },
      });
      const [verified, ...answers] = await Promise.all([verify, ...logins]);
      await expectStatus(verified, 200);
      for (const res of answers) expect(res.status).toBe(200);
      // Whatever each login answered, the only live session left is the one that verified.
      const sessions = await expectStatus(api(m, user.token).v1.auth.sessions.$get(), 200);
      expect(sessions.sessions.map((s) => ({ aal: s.aal, current: s.current }))).toEqual([
        { aal: 2, current: true },
      ]);
      const fromLogin = await Promise.all(answers.map((r) => r.json()));
      for (const body of fromLogin) {
        if ("session" in body) await expectStatus(api(m, body.session.token).v1.me.$get(), 401);
      }
    }
  });

  it("ends open MFA challenges when a reset completes", async () => {
    const m = fresh({ APP_ENV: "development" });
    const user = await signUp(m);
    const { secret, recoveryCodes } = await enrollTotp(m, user);
    const open = await challenge(m, user);
    await expectStatus(api(m).v1.auth.password.forgot.$post({ json: { email: user.email } }), 202);
    const token = (await devOutbox(m, user.email)).at(-1)?.token ?? "";
    await expectStatus(
      api(m).v1.auth.password.reset.$post({
        json: { token, newPassword: "brand new password 1", recoveryCode: recoveryCodes[0]! },
      }),
      200,
    );
    m.clock.advance(30_000);
    const late = await expectStatus(
      api(m).v1.auth.mfa.verify.$post({
        json: { challengeToken: open, code: codeAt(secret, m.clock.now()) },
      }),
      401,
    );
    expect(late.code).toBe("invalid_challenge");
  });

  it("hashes IPs and user agents under separate keys: a user agent spelling the IP has another hash", async () => {
    const m = fresh();
    const user = await signUp(m);
    await expectStatus(
      api(m, user.token, {
        "user-agent": DEFAULT_TEST_IP,
        [TEST_IP_HEADER]: DEFAULT_TEST_IP,
      }).v1.auth.sessions[":id"].$delete({
        param: { id: user.sessionId.replace(/.$/, (c) => (c === "0" ? "1" : "0")) },
      }),
      404,
    );
    await expectStatus(api(m, user.token, { "user-agent": DEFAULT_TEST_IP }).v1.auth.logout.$post(), 204);
    const again = await expectStatus(
      api(m).v1.auth.login.$post({ json: { email: user.email, password: PASSWORD } }),
      200,
    );
    if (again.status !== "authenticated") throw new Error("no MFA here");
    const events = await expectStatus(
      api(m, again.session.token).v1["security-events"].$get({ query: { type: "auth.logout" } }),
      200,
    );
    const [logout] = events.events;
    expect(logout?.ipHash).toMatch(/^[0-9a-f]{64}$/);
    expect(logout?.userAgentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(logout?.userAgentHash).not.toBe(logout?.ipHash);
  });

  it("answers every /v1 request with Cache-Control: no-store, errors included", async () => {
    const user = await signUp(h());
    const answers = [
      await api(h()).v1.auth.login.$post({ json: { email: user.email, password: PASSWORD } }),
      await api(h(), user.token).v1.me.$get(),
      await api(h()).v1.me.$get(),
      await api(h(), user.token).v1.mfa.totp.$post({ json: {} }),
    ];
    for (const res of answers) expect(res.headers.get("cache-control"), String(res.status)).toBe("no-store");
    const missing = await call(h(), "GET", "/v1/nope");
    expect(missing.headers.get("cache-control")).toBe("no-store");
  });

  it("refuses NUL and lone surrogates in bodies, queries and paths with 400, never 5xx", async () => {
    const user = await signUp(h());
    const bad = ["a\u0000b", "x\ud800", "\udc00y"];
    for (const value of bad) {
      const label = JSON.stringify(value);
      const reg = await expectStatus(
        api(h()).v1.auth.register.$post({
          json: { email: uniqueEmail(), password: PASSWORD, displayName: value },
        }),
        400,
      );
      expect(reg.code, label).toBe("invalid_request");
      expect(reg.errors?.[0]?.path, label).toBe("displayName");
      await expectStatus(api(h(), user.token).v1.tenants.$post({ json: { name: value } }), 400);
      await expectStatus(api(h(), user.token).v1.mfa.totp.$post({ json: { label: value } }), 400);
      await expectStatus(
        api(h(), user.token).v1.consents.$post({
          json: { policy: "terms", version: value, decision: "granted" },
        }),
        400,
      );
      // In a field the schema does not know (unknown fields are ignored, but never stored badly).
      const extra = await call(h(), "POST", "/v1/auth/login", {
        json: { email: user.email, password: PASSWORD, [value]: 1 },
      });
      expect(extra.status, label).toBe(400);
    }
    const query = await call(h(), "GET", "/v1/usage?feature=a%00b", { token: user.token });
    expect(query.status).toBe(400);
    const path = await call(h(), "DELETE", "/v1/auth/sessions/%00", { token: user.token });
    expect(path.status).toBe(400);
  });

  it("accepts UUIDs in any case and treats them as the lower-case id", async () => {
    const owner = await signUp(h());
    const tenant = await expectStatus(
      api(h(), owner.token).v1.tenants.$post({ json: { name: "Case Co" } }),
      201,
    );
    const upper = tenant.tenant.id.toUpperCase();
    const usage = await expectStatus(
      api(h(), owner.token).v1.usage.$get({ query: { tenantId: upper } }),
      200,
    );
    expect(usage.total).toBe(0);
    const counted = await expectStatus(
      api(h(), owner.token).v1.usage.$post({
        json: { feature: "api", quantity: 2, tenantId: upper },
        header: {},
      }),
      200,
    );
    expect(counted.counter.tenantId).toBe(tenant.tenant.id);
    const other = await signUp(h());
    await expectStatus(api(h(), other.token).v1.usage.$get({ query: { tenantId: upper } }), 403);
    await expectStatus(
      api(h(), owner.token).v1.auth.sessions[":id"].$delete({ param: { id: owner.sessionId.toUpperCase() } }),
      204,
    );
  });
}

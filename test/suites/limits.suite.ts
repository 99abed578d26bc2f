/**
 * Throttles that cannot be raced or pooled (contract: "Default limits"). Every count here has a
 * lower and an upper bound: an attempt is "checked" when it produced its own event
 * (`auth.login_failed`, `auth.mfa_failed`), which happens only after the limiter let it through.
 * Bursts over a limit carry a VALID recovery code or password, and the test asserts it was not
 * used: a check that slipped past the limiter would spend it.
 */
import { expect, it } from "vitest";
import { PASSWORD, type SignedUp, signUp, uniqueEmail } from "../support/fixtures";
import { api, expectStatus, type Harness, makeHarness, TEST_IP_HEADER } from "../support/harness";
import { challenge, codeAt, enrollTotp } from "../support/mfa";

const MINUTE = 60_000;

export function limitsSuite(h: () => Harness): void {
  const fresh = (env: Record<string, string>) => {
    const m = makeHarness({ backend: h().backend, open: h().open, env });
    m.clock.set(h().clock.now());
    return m;
  };
  const from = (m: Harness, ip: string, token?: string) => api(m, token, { [TEST_IP_HEADER]: ip });

  async function eventCount(m: Harness, user: SignedUp, type: "auth.login_failed" | "auth.mfa_failed") {
    const body = await expectStatus(
      api(m, user.token).v1["security-events"].$get({ query: { type, limit: "100" } }),
      200,
    );
    return body.events.length;
  }

  /** A user with a verified TOTP factor, signed in at aal 2 (the enrollment upgraded the session). */
  async function withMfa(m: Harness) {
    const user = await signUp(m);
    const enrolled = await enrollTotp(m, user);
    return { user, ...enrolled };
  }

  it("checks no more wrong passwords than the limit, however many race; then refuses the right one unchecked", async () => {
    const m = fresh({ RATE_LIMIT_PASSWORD_PER_ACCOUNT_NETWORK: "3/900" });
    const user = await signUp(m);
    const burst = await Promise.all(
      Array.from({ length: 15 }, () =>
        from(m, "198.51.100.20").v1.auth.login.$post({
          json: { email: user.email, password: "wrong password 1" },
        }),
      ),
    );
    const statuses = burst.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(12);
    expect(await eventCount(m, user, "auth.login_failed")).toBe(3);
    const refused = await expectStatus(
      from(m, "198.51.100.20").v1.auth.login.$post({ json: { email: user.email, password: PASSWORD } }),
      429,
    );
    expect(refused.limit).toBe("password_account_network");
  });

  it("never lets one network lock out a user who signs in from another", async () => {
    const m = fresh({});
    const user = await signUp(m);
    for (let i = 0; i < 10; i++) {
      await expectStatus(
        from(m, "203.0.113.66").v1.auth.login.$post({
          json: { email: user.email, password: "nope nope nope" },
        }),
        401,
      );
    }
    const attacker = await expectStatus(
      from(m, "203.0.113.66").v1.auth.login.$post({ json: { email: user.email, password: PASSWORD } }),
      429,
    );
    expect(attacker.limit).toBe("password_account_network");
    const owner = await expectStatus(
      from(m, "192.0.2.44").v1.auth.login.$post({ json: { email: user.email, password: PASSWORD } }),
      200,
    );
    expect(owner.status).toBe("authenticated");
  });

  it("limits the account across networks, and does not count right passwords", async () => {
    const m = fresh({ RATE_LIMIT_PASSWORD_PER_ACCOUNT: "4/900" });
    const user = await signUp(m);
    for (let i = 0; i < 6; i++) {
      // Right passwords give their count back: any number of sign-ins never trips the limit.
      await expectStatus(
        from(m, `192.0.2.${i + 1}`).v1.auth.login.$post({ json: { email: user.email, password: PASSWORD } }),
        200,
      );
    }
    for (let i = 0; i < 4; i++) {
      await expectStatus(
        from(m, `198.51.100.${i + 1}`).v1.auth.login.$post({
          json: { email: user.email, password: "bad password x" },
        }),
        401,
      );
    }
    const refused = await expectStatus(
      from(m, "198.51.100.99").v1.auth.login.$post({ json: { email: user.email, password: PASSWORD } }),
      429,
    );
    expect(refused.limit).toBe("password_account");
  });

  it("keys IPv6 clients by their /64, and gives other prefixes their own bucket", async () => {
    const m = fresh({ RATE_LIMIT_PASSWORD_PER_NETWORK: "3/900" });
    const statuses: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const res = await from(m, `2001:db8:aa:bb::${i.toString(16)}`).v1.auth.login.$post({
        json: { email: uniqueEmail(), password: "whatever pass" },
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const other = await from(m, "2001:db8:aa:bc::1").v1.auth.login.$post({
      json: { email: uniqueEmail(), password: "whatever pass" },
    });
    expect(other.status).toBe(401);
  });

  it("skips per-network limits, instead of pooling clients, when the platform gives no address", async () => {
    const m = fresh({ RATE_LIMIT_PASSWORD_PER_NETWORK: "2/900", RATE_LIMIT_REGISTER_PER_NETWORK: "2/3600" });
    for (let i = 0; i < 4; i++) {
      const res = await from(m, "none").v1.auth.login.$post({
        json: { email: uniqueEmail(), password: "whatever pass" },
      });
      expect(res.status).toBe(401);
    }
    for (let i = 0; i < 3; i++) {
      await expectStatus(
        from(m, "none").v1.auth.register.$post({ json: { email: uniqueEmail(), password: PASSWORD } }),
        201,
      );
    }
    expect(m.logs.some((l) => l.level === "warn" && String(l.msg).includes("no client address"))).toBe(true);
  });

  it("limits registrations per network, successful or not", async () => {
    const m = fresh({ RATE_LIMIT_REGISTER_PER_NETWORK: "3/3600" });
    await expectStatus(
      from(m, "198.51.100.77").v1.auth.register.$post({ json: { email: uniqueEmail(), password: "short" } }),
      400,
    );
    await expectStatus(
      from(m, "198.51.100.77").v1.auth.register.$post({ json: { email: uniqueEmail(), password: PASSWORD } }),
      201,
    );
    await expectStatus(
      from(m, "198.51.100.77").v1.auth.register.$post({ json: { email: uniqueEmail(), password: PASSWORD } }),
      201,
    );
    const refused = await expectStatus(
      from(m, "198.51.100.77").v1.auth.register.$post({ json: { email: uniqueEmail(), password: PASSWORD } }),
      429,
    );
    expect(refused.limit).toBe("register_network");
    await expectStatus(
      from(m, "198.51.100.78").v1.auth.register.$post({ json: { email: uniqueEmail(), password: PASSWORD } }),
      201,
    );
  });

  it("does not count successful second-factor checks: 12 regenerations in a row all pass", async () => {
    const m = fresh({});
    const { user, recoveryCodes } = await withMfa(m);
    let codes = recoveryCodes;
    for (let i = 0; i < 12; i++) {
      const body = await expectStatus(
        api(m, user.token).v1.mfa["recovery-codes"].$post({ json: { recoveryCode: codes[0]! } }),
        201,
      );
      codes = body.recoveryCodes;
    }
    expect(codes).toHaveLength(10);
  });

  it("checks at most the per-user limit of racing wrong codes; a valid code in the over-limit burst stays unspent", async () => {
    const m = fresh({ RATE_LIMIT_MFA_PER_USER: "4/900" });
    const { user, recoveryCodes } = await withMfa(m);
    const before = await eventCount(m, user, "auth.mfa_failed");
    const burst = await Promise.all(
      Array.from({ length: 12 }, () =>
        api(m, user.token).v1.mfa["recovery-codes"].$post({ json: { code: "000000" } }),
      ),
    );
    const statuses = burst.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(8);
    expect((await eventCount(m, user, "auth.mfa_failed")) - before).toBe(4);
    const over = await Promise.all([
      ...Array.from({ length: 5 }, () =>
        api(m, user.token).v1.mfa["recovery-codes"].$post({ json: { code: "111111" } }),
      ),
      api(m, user.token).v1.mfa["recovery-codes"].$post({ json: { recoveryCode: recoveryCodes[1]! } }),
    ]);
    expect(over.map((r) => r.status)).toEqual([429, 429, 429, 429, 429, 429]);
    const body = await expectStatus(over[5]!, 429);
    expect(body.limit).toBe("mfa_user");
    // Unspent: once the sliding window has passed, the same code works.
    m.clock.advance(31 * MINUTE);
    await expectStatus(
      api(m, user.token).v1.mfa["recovery-codes"].$post({ json: { recoveryCode: recoveryCodes[1]! } }),
      201,
    );
  });

  it("limits wrong second factors per day across windows", async () => {
    const m = fresh({ RATE_LIMIT_MFA_PER_USER: "2/900", RATE_LIMIT_MFA_PER_USER_DAILY: "3/86400" });
    const { user } = await withMfa(m);
    const wrong = () => api(m, user.token).v1.mfa["recovery-codes"].$post({ json: { code: "000000" } });
    await expectStatus(wrong(), 401);
    await expectStatus(wrong(), 401);
    m.clock.advance(31 * MINUTE);
    await expectStatus(wrong(), 401);
    const refused = await expectStatus(wrong(), 429);
    expect(refused.limit).toBe("mfa_user_daily");
  });

  it("checks at most 5 codes on one challenge, however many race (recovery codes included)", async () => {
    const m = fresh({ RATE_LIMIT_MFA_PER_USER: "100/900", RATE_LIMIT_MFA_PER_USER_DAILY: "100/86400" });
    const { user, recoveryCodes } = await withMfa(m);
    const before = await eventCount(m, user, "auth.mfa_failed");
    const token = await challenge(m, user);
    const burst = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api(m).v1.auth.mfa.verify.$post({
          json:
            i % 2
              ? { challengeToken: token, code: "000000" }
              : { challengeToken: token, recoveryCode: "AAAA-BBBB-CCCC" },
        }),
      ),
    );
    const statuses = burst.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    const codes = await Promise.all(burst.map((r) => r.json().then((b) => ("code" in b ? b.code : null))));
    expect(codes.filter((c) => c === "invalid_mfa_code")).toHaveLength(5);
    expect(codes.filter((c) => c === "invalid_challenge")).toHaveLength(5);
    expect((await eventCount(m, user, "auth.mfa_failed")) - before).toBe(5);
    // The dead challenge refuses a valid code without spending it.
    await expectStatus(
      api(m).v1.auth.mfa.verify.$post({ json: { challengeToken: token, recoveryCode: recoveryCodes[0]! } }),
      401,
    );
    const fresh2 = await challenge(m, user);
    await expectStatus(
      api(m).v1.auth.mfa.verify.$post({ json: { challengeToken: fresh2, recoveryCode: recoveryCodes[0]! } }),
      200,
    );
  });

  it("lets a valid code through on a challenge that has had 4 wrong ones", async () => {
    const m = fresh({});
    const { user, secret } = await withMfa(m);
    const token = await challenge(m, user);
    for (let i = 0; i < 4; i++) {
      await expectStatus(
        api(m).v1.auth.mfa.verify.$post({ json: { challengeToken: token, code: "000000" } }),
        401,
      );
    }
    m.clock.advance(30_000);
    await expectStatus(
      api(m).v1.auth.mfa.verify.$post({
        json: { challengeToken: token, code: codeAt(secret, m.clock.now()) },
      }),
      200,
    );
  });

  it("sends reset messages at most 3 times an hour per address, always answering 202", async () => {
    const m = fresh({});
    const user = await signUp(m);
    for (let i = 0; i < 5; i++) {
      const res = await api(m).v1.auth.password.forgot.$post({ json: { email: user.email } });
      expect(res.status).toBe(202);
    }
    const events = await expectStatus(
      api(m, user.token).v1["security-events"].$get({ query: { type: "auth.password_reset_requested" } }),
      200,
    );
    expect(events.events).toHaveLength(3);
  });

  it("does the same work in forgot for known and unknown emails (same statements)", async () => {
    const m = fresh({});
    const user = await signUp(m);
    await expectStatus(api(m).v1.auth.password.forgot.$post({ json: { email: user.email } }), 202);
    const known = m.lastRequestDb()!.stats.statements;
    await expectStatus(api(m).v1.auth.password.forgot.$post({ json: { email: uniqueEmail("nobody") } }), 202);
    const unknown = m.lastRequestDb()!.stats.statements;
    expect(unknown).toBe(known);
    expect(known).toBeGreaterThan(0);
  });
}

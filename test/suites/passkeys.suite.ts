/**
 * Passkeys (WebAuthn) on every backend, with a software authenticator: registration as a
 * factor, MFA login, passwordless sign-in, reset, the counter, other users' credentials,
 * replays, a race on one challenge, removal, and the second-factor limits.
 */
import { and, eq, inArray } from "drizzle-orm";
import { expect, it } from "vitest";
import { latestMessage, noticesTo, type SignedUp, signUp } from "../support/fixtures";
import { api, expectStatus, type Harness, makeHarness } from "../support/harness";
import { challenge, codeAt, enrollTotp, STEP_MS, stepStart } from "../support/mfa";
import { SoftAuthenticator } from "../support/webauthn";

interface Passkey {
  factorId: string;
  credentialId: string;
  recoveryCodes: string[];
}

export function passkeysSuite(h: () => Harness): void {
  const fresh = (env: Record<string, string> = {}) => {
    const m = makeHarness({ backend: h().backend, open: h().open, env });
    m.clock.set(stepStart());
    return m;
  };

  /** Registers a passkey of `auth` on `user`'s account (the session is recent: no password needed). */
  async function registerPasskey(m: Harness, user: SignedUp, auth: SoftAuthenticator, label = "laptop") {
    const client = api(m, user.token).v1.mfa.webauthn;
    const { options } = await expectStatus(client.registration.options.$post({ json: {} }), 200);
    const response = await auth.create(options);
    const done = await expectStatus(client.registration.verify.$post({ json: { response, label } }), 201);
    return {
      factorId: done.factor.id,
      credentialId: response.id,
      recoveryCodes: done.recoveryCodes ?? [],
    } as Passkey;
  }

  /** An assertion for passwordless sign-in (fresh options) and its challenge id. */
  async function passkeyAssertion(m: Harness, auth: SoftAuthenticator, opts = {}) {
    const { options, passkeyChallengeId } = await expectStatus(api(m).v1.auth.passkey.options.$post(), 200);
    return { passkeyChallengeId, response: await auth.get(options, opts) };
  }

  /** An assertion answering the login MFA challenge `token`. */
  async function mfaAssertion(m: Harness, token: string, auth: SoftAuthenticator, opts = {}) {
    const { options } = await expectStatus(
      api(m).v1.auth.mfa.webauthn.options.$post({ json: { challengeToken: token } }),
      200,
    );
    return auth.get(options, opts);
  }

  async function eventsOf(m: Harness, userId: string, type: string) {
    const { db, t } = m.open();
    const e = t.securityEvents;
    return db
      .select({ metadata: e.metadata })
      .from(e)
      .where(and(eq(e.userId, userId), eq(e.type, type)));
  }

  it("registers a passkey as the first factor: options, then a verified factor with 10 recovery codes and aal 2", async () => {
    const m = fresh();
    const user = await signUp(m);
    const other = await expectStatus(
      api(m).v1.auth.login.$post({ json: { email: user.email, password: user.password } }),
      200,
    );
    if (other.status !== "authenticated") throw new Error("expected a session");
    const auth = new SoftAuthenticator();
    const client = api(m, user.token).v1.mfa.webauthn;
    const { options } = await expectStatus(client.registration.options.$post({ json: {} }), 200);
    expect(options).toMatchObject({
      rp: { id: "localhost" },
      user: { name: user.email },
      attestation: "none",
      authenticatorSelection: { residentKey: "preferred", userVerification: "required" },
    });
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const response = await auth.create(options);
    // A response to another origin is refused, and the challenge it named is spent with it.
    const elsewhere = new SoftAuthenticator("https://evil.example");
    const { options: second } = await expectStatus(client.registration.options.$post({ json: {} }), 200);
    const foreign = await expectStatus(
      client.registration.verify.$post({ json: { response: await elsewhere.create(second) } }),
      400,
    );
    expect(foreign.code).toBe("invalid_webauthn_response");

    const done = await expectStatus(
      client.registration.verify.$post({ json: { response, label: "laptop" } }),
      201,
    );
    expect(done.factor).toMatchObject({ type: "webauthn", status: "verified", label: "laptop" });
    expect(done.recoveryCodes).toHaveLength(10);
    // Replaying the same answer finds its challenge spent.
    const replay = await expectStatus(client.registration.verify.$post({ json: { response } }), 400);
    expect(replay.code).toBe("invalid_webauthn_response");

    const me = await expectStatus(api(m, user.token).v1.me.$get(), 200);
    expect(me.session.aal).toBe(2);
    expect(me.mfa).toEqual({ enabled: true, verifiedFactors: 1, recoveryCodesRemaining: 10 });
    await expectStatus(api(m, other.session.token).v1.me.$get(), 401);
    const { factors } = await expectStatus(api(m, user.token).v1.mfa.factors.$get(), 200);
    expect(factors).toEqual([
      expect.objectContaining({ id: done.factor.id, type: "webauthn", status: "verified", label: "laptop" }),
    ]);
    expect(await noticesTo(m, user.email)).toContain("factor_added");
    expect(await eventsOf(m, user.userId, "mfa.passkey_registered")).toHaveLength(1);
  });

  it("makes one first factor of a TOTP confirmation and a passkey registration at once: one set of codes, shown once", async () => {
    const m = fresh({ RATE_LIMIT_MFA_PER_USER: "100/900" });
    // Several users, each racing the two at once: both requests read "no verified factor yet".
    for (let i = 0; i < 4; i++) {
      const user = await signUp(m);
      const start = await expectStatus(api(m, user.token).v1.mfa.totp.$post({ json: {} }), 201);
      const client = api(m, user.token).v1.mfa.webauthn;
      const { options } = await expectStatus(client.registration.options.$post({ json: {} }), 200);
      const response = await new SoftAuthenticator().create(options);
      const [totp, passkey] = await Promise.all([
        expectStatus(
          api(m, user.token).v1.mfa.totp[":factorId"].verify.$post({
            param: { factorId: start.factor.id },
            json: { code: codeAt(start.secret, m.clock.now()) },
          }),
          200,
        ),
        expectStatus(client.registration.verify.$post({ json: { response } }), 201),
      ]);
      const shown = [totp.recoveryCodes, passkey.recoveryCodes].filter((codes) => codes !== undefined);
      expect(shown, "exactly one of the two is the first factor").toHaveLength(1);
      const { db, t } = m.open();
      const stored = await db
        .select()
        .from(t.userRecoveryCodes)
        .where(eq(t.userRecoveryCodes.userId, user.userId));
      expect(stored).toHaveLength(10);
      // The codes shown are the stored ones: one of them is accepted as a second factor.
      const recoveryCode = shown[0]![0]!;
      await expectStatus(api(m, user.token).v1.mfa["recovery-codes"].$post({ json: { recoveryCode } }), 201);
    }
  });

  it("asks for a verified email, and an aal-2 session once a factor is verified", async () => {
    const m = fresh();
    const unverified = await signUp(m, { verified: false });
    const refused = await expectStatus(
      api(m, unverified.token).v1.mfa.webauthn.registration.options.$post({ json: {} }),
      403,
    );
    expect(refused.code).toBe("email_not_verified");

    const user = await signUp(m);
    await enrollTotp(m, user);
    const aal1 = await expectStatus(
      api(m).v1.auth.login.$post({ json: { email: user.email, password: user.password } }),
      200,
    );
    expect(aal1.status).toBe("mfa_required");
    // The enrolling session (aal 2) adds a passkey as its second factor: no new recovery codes.
    const second = await registerPasskey(m, user, new SoftAuthenticator());
    expect(second.recoveryCodes).toEqual([]);
    const login = await expectStatus(
      api(m).v1.auth.login.$post({ json: { email: user.email, password: user.password } }),
      200,
    );
    if (login.status !== "mfa_required") throw new Error("expected a challenge");
    expect(login.challenge.methods).toEqual(["totp", "webauthn", "recovery_code"]);
  });

  it("answers a login's MFA challenge with a passkey (aal 2); a replayed assertion is refused", async () => {
    const m = fresh();
    const user = await signUp(m);
    const auth = new SoftAuthenticator();
    await registerPasskey(m, user, auth);
    const login = await expectStatus(
      api(m).v1.auth.login.$post({ json: { email: user.email, password: user.password } }),
      200,
    );
    if (login.status !== "mfa_required") throw new Error("expected a challenge");
    expect(login.challenge.methods).toEqual(["webauthn", "recovery_code"]);
    const bad = await expectStatus(
      api(m).v1.auth.mfa.webauthn.options.$post({ json: { challengeToken: "not-a-challenge" } }),
      401,
    );
    expect(bad.code).toBe("invalid_challenge");

    const { options } = await expectStatus(
      api(m).v1.auth.mfa.webauthn.options.$post({ json: { challengeToken: login.challenge.token } }),
      200,
    );
    expect(options.userVerification).toBe("required");
    expect(options.allowCredentials).toEqual([expect.objectContaining({ type: "public-key" })]);
    const webauthn = await auth.get(options);
    const ok = await expectStatus(
      api(m).v1.auth.mfa.verify.$post({ json: { challengeToken: login.challenge.token, webauthn } }),
      200,
    );
    expect(ok.session.aal).toBe(2);

    // The same assertion on a new challenge: its WebAuthn challenge is spent (and bound to the first).
    const again = await challenge(m, user);
    const replay = await expectStatus(
      api(m).v1.auth.mfa.verify.$post({ json: { challengeToken: again, webauthn } }),
      401,
    );
    expect(replay.code).toBe("invalid_mfa_code");
    const fresh2 = await mfaAssertion(m, again, auth);
    await expectStatus(
      api(m).v1.auth.mfa.verify.$post({ json: { challengeToken: again, webauthn: fresh2 } }),
      200,
    );
  });

  it("registers one credential id for one account only, also when two registrations race", async () => {
    const m = fresh();
    const rawId = crypto.getRandomValues(new Uint8Array(16));
    const users = [await signUp(m), await signUp(m)];
    const registrations = await Promise.all(
      users.map(async (user) => {
        const client = api(m, user.token).v1.mfa.webauthn;
        const { options } = await expectStatus(client.registration.options.$post({ json: {} }), 200);
        return { client, response: await new SoftAuthenticator().create(options, { rawId }) };
      }),
    );
    const answers = await Promise.all(
      registrations.map(({ client, response }) => client.registration.verify.$post({ json: { response } })),
    );
    // One registration wins; the other is a 400 (never a 5xx) and leaves no factor behind.
    expect(answers.map((a) => a.status).sort()).toEqual([201, 400]);
    const loser = answers.find((a) => a.status === 400);
    if (!loser) throw new Error("expected one refused registration");
    expect(((await loser.json()) as { code: string }).code).toBe("invalid_webauthn_response");
    const { db, t } = m.open();
    const factors = await db
      .select({ userId: t.userMfaMethods.userId })
      .from(t.userMfaMethods)
      .where(
        inArray(
          t.userMfaMethods.userId,
          users.map((u) => u.userId),
        ),
      );
    expect(factors).toHaveLength(1);
  });

  it("refuses another user's credential, even signing the right challenge", async () => {
    const m = fresh();
    const alice = await signUp(m);
    const aliceKey = new SoftAuthenticator();
    await registerPasskey(m, alice, aliceKey);
    const bob = await signUp(m);
    const bobKey = new SoftAuthenticator();
    await registerPasskey(m, bob, bobKey);

    const token = await challenge(m, bob);
    const { options } = await expectStatus(
      api(m).v1.auth.mfa.webauthn.options.$post({ json: { challengeToken: token } }),
      200,
    );
    const [aliceCredential] = aliceKey.credentials.keys();
    const forged = await aliceKey.get(options, { credentialId: aliceCredential });
    const refused = await expectStatus(
      api(m).v1.auth.mfa.verify.$post({ json: { challengeToken: token, webauthn: forged } }),
      401,
    );
    expect(refused.code).toBe("invalid_mfa_code");
    expect(await eventsOf(m, bob.userId, "auth.mfa_failed")).toHaveLength(1);
    // Bob's own passkey still answers the same challenge (the forged answer consumed nothing).
    const own = await bobKey.get(options);
    await expectStatus(
      api(m).v1.auth.mfa.verify.$post({ json: { challengeToken: token, webauthn: own } }),
      200,
    );
  });

  it("signs in without a password with a discoverable passkey (aal 2); a replay is refused", async () => {
    const m = fresh();
    const user = await signUp(m);
    const auth = new SoftAuthenticator();
    await registerPasskey(m, user, auth);
    const { options, passkeyChallengeId } = await expectStatus(api(m).v1.auth.passkey.options.$post(), 200);
    expect(options.allowCredentials ?? []).toEqual([]);
    expect(options.rpId).toBe("localhost");
    const response = await auth.get(options);
    const ok = await expectStatus(
      api(m).v1.auth.passkey.verify.$post({ json: { passkeyChallengeId, response } }),
      200,
    );
    expect(ok).toMatchObject({ status: "authenticated", user: { id: user.userId, email: user.email } });
    expect(ok.session.aal).toBe(2);
    const me = await expectStatus(api(m, ok.session.token).v1.me.$get(), 200);
    expect(me.session.aal).toBe(2);
    const [signedIn] = await eventsOf(m, user.userId, "auth.login_succeeded").then((e) =>
      e.filter((x) => (x.metadata as { passwordless?: boolean }).passwordless),
    );
    expect(signedIn?.metadata).toMatchObject({ aal: 2, method: "webauthn" });

    const replay = await expectStatus(
      api(m).v1.auth.passkey.verify.$post({ json: { passkeyChallengeId, response } }),
      401,
    );
    expect(replay.code).toBe("invalid_webauthn_response");
    // The factor's last use is recorded.
    const { factors } = await expectStatus(api(m, ok.session.token).v1.mfa.factors.$get(), 200);
    expect(factors[0]?.lastUsedAt).toEqual(expect.any(String));
  });

  it("refuses a passwordless sign-in to an unverified account when verification is required", async () => {
    // Enrolled while verification was off; the deployment then requires verified addresses.
    const off = fresh({ EMAIL_VERIFICATION: "off" });
    const user = await signUp(off, { verified: false });
    const auth = new SoftAuthenticator();
    await registerPasskey(off, user, auth);
    const required = fresh({ EMAIL_VERIFICATION: "required" });
    const refused = await expectStatus(
      api(required).v1.auth.passkey.verify.$post({ json: await passkeyAssertion(required, auth) }),
      403,
    );
    expect(refused.code).toBe("email_not_verified");
    await expectStatus(
      api(off).v1.auth.passkey.verify.$post({ json: await passkeyAssertion(off, auth) }),
      200,
    );
  });

  it("completes a password reset with a passkey", async () => {
    const m = fresh();
    const user = await signUp(m);
    const auth = new SoftAuthenticator();
    await registerPasskey(m, user, auth);
    await expectStatus(api(m).v1.auth.password.forgot.$post({ json: { email: user.email } }), 202);
    const message = await latestMessage(m, user.email, "password_reset");
    const token = String(message?.payload.token);
    const invalid = await expectStatus(
      api(m).v1.auth.password.reset.webauthn.options.$post({ json: { token: "nope" } }),
      400,
    );
    expect(invalid.code).toBe("invalid_token");
    const { options } = await expectStatus(
      api(m).v1.auth.password.reset.webauthn.options.$post({ json: { token } }),
      200,
    );
    const webauthn = await auth.get(options);
    const newPassword = "a whole new passphrase";
    // An assertion asked for a login challenge does not complete a reset.
    const loginToken = await challenge(m, user);
    const wrongFlow = await mfaAssertion(m, loginToken, auth);
    const refused = await expectStatus(
      api(m).v1.auth.password.reset.$post({ json: { token, newPassword, webauthn: wrongFlow } }),
      401,
    );
    expect(refused.code).toBe("invalid_mfa_code");
    const done = await expectStatus(
      api(m).v1.auth.password.reset.$post({ json: { token, newPassword, webauthn } }),
      200,
    );
    expect(done.session.aal).toBe(2);
    const login = await expectStatus(
      api(m).v1.auth.login.$post({ json: { email: user.email, password: newPassword } }),
      200,
    );
    expect(login.status).toBe("mfa_required");
  });

  it("refuses a signature counter that does not grow, and records it", async () => {
    const m = fresh();
    const user = await signUp(m);
    const auth = new SoftAuthenticator();
    const key = await registerPasskey(m, user, auth);
    const first = await passkeyAssertion(m, auth, { counter: 5 });
    await expectStatus(api(m).v1.auth.passkey.verify.$post({ json: first }), 200);
    // A clone of the authenticator, behind the original's counter.
    const cloned = await passkeyAssertion(m, auth, { counter: 3 });
    const refused = await expectStatus(api(m).v1.auth.passkey.verify.$post({ json: cloned }), 401);
    expect(refused.code).toBe("invalid_webauthn_response");
    const same = await passkeyAssertion(m, auth, { counter: 5 });
    await expectStatus(api(m).v1.auth.passkey.verify.$post({ json: same }), 401);
    const regressions = await eventsOf(m, user.userId, "mfa.passkey_counter_regression");
    expect(regressions.map((e) => e.metadata)).toEqual([
      expect.objectContaining({ factorId: key.factorId, storedCounter: 5, presentedCounter: 3 }),
      expect.objectContaining({ factorId: key.factorId, storedCounter: 5, presentedCounter: 5 }),
    ]);
    const next = await passkeyAssertion(m, auth, { counter: 6 });
    await expectStatus(api(m).v1.auth.passkey.verify.$post({ json: next }), 200);
  });

  it("accepts an authenticator without a counter (always zero)", async () => {
    const m = fresh();
    const user = await signUp(m);
    const auth = new SoftAuthenticator();
    const client = api(m, user.token).v1.mfa.webauthn;
    const { options } = await expectStatus(client.registration.options.$post({ json: {} }), 200);
    const response = await auth.create(options, { zeroCounter: true });
    await expectStatus(client.registration.verify.$post({ json: { response } }), 201);
    for (let i = 0; i < 2; i++) {
      const assertion = await passkeyAssertion(m, auth, { zeroCounter: true });
      await expectStatus(api(m).v1.auth.passkey.verify.$post({ json: assertion }), 200);
    }
  });

  it("issues exactly one session for 20 parallel uses of one challenge", async () => {
    const m = fresh();
    const user = await signUp(m);
    const auth = new SoftAuthenticator();
    await registerPasskey(m, user, auth);
    const assertion = await passkeyAssertion(m, auth);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => api(m).v1.auth.passkey.verify.$post({ json: assertion })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    // The rest are refused (401) or, once the per-user limit is used up by the refusals, 429.
    expect(statuses.every((s) => s === 200 || s === 401 || s === 429)).toBe(true);
    const { db, t } = m.open();
    const sessions = await db
      .select({ id: t.userSessions.id })
      .from(t.userSessions)
      .where(and(eq(t.userSessions.userId, user.userId), eq(t.userSessions.aal, 2)));
    // The registering session (raised to aal 2) and the one passkey session.
    expect(sessions).toHaveLength(2);
  });

  it("removes a passkey with a second factor from the session, and regenerates recovery codes with one", async () => {
    const m = fresh();
    const user = await signUp(m);
    const auth = new SoftAuthenticator();
    const key = await registerPasskey(m, user, auth);
    const client = api(m, user.token);
    const sessionAssertion = async () => {
      const { options } = await expectStatus(client.v1.mfa.webauthn.authentication.options.$post(), 200);
      return auth.get(options);
    };
    const regenerated = await expectStatus(
      client.v1.mfa["recovery-codes"].$post({ json: { webauthn: await sessionAssertion() } }),
      201,
    );
    expect(regenerated.recoveryCodes).toHaveLength(10);
    const remove = (json: object) =>
      client.v1.mfa.factors[":factorId"].$delete({ param: { factorId: key.factorId }, json });
    await expectStatus(remove({}), 400);
    // An assertion asked for another session's checks is not this session's.
    const login = await challenge(m, user);
    const stray = await mfaAssertion(m, login, auth);
    await expectStatus(remove({ webauthn: stray }), 401);
    await expectStatus(remove({ webauthn: await sessionAssertion() }), 204);
    const { factors } = await expectStatus(client.v1.mfa.factors.$get(), 200);
    expect(factors).toEqual([]);
    const codes = await expectStatus(client.v1.mfa["recovery-codes"].$get(), 200);
    expect(codes).toEqual({ remaining: 0, createdAt: null });
    expect(await noticesTo(m, user.email)).toContain("factor_removed");
    // The credential went with its factor: it signs nobody in.
    const gone = await passkeyAssertion(m, auth);
    await expectStatus(api(m).v1.auth.passkey.verify.$post({ json: gone }), 401);
    // And a TOTP user cannot answer with a passkey they do not have.
    const totpUser = await signUp(m);
    const totp = await enrollTotp(m, totpUser);
    m.clock.advance(STEP_MS);
    const token = await challenge(m, totpUser);
    await expectStatus(
      api(m).v1.auth.mfa.verify.$post({
        json: { challengeToken: token, code: codeAt(totp.secret, m.clock.now()) },
      }),
      200,
    );
  });

  it("counts failed passkey checks on the second-factor limits: 429 after the limit", async () => {
    const m = fresh();
    const user = await signUp(m);
    const auth = new SoftAuthenticator();
    await registerPasskey(m, user, auth);
    const limit = m.config.rateLimits.mfaPerUser.limit;
    const tampered = async () => {
      const a = await passkeyAssertion(m, auth);
      // One changed byte in the signed data (the counter): the signature no longer matches.
      const data = a.response.response.authenticatorData;
      const changed = `${data.slice(0, 46)}${data[46] === "A" ? "B" : "A"}${data.slice(47)}`;
      return {
        ...a,
        response: { ...a.response, response: { ...a.response.response, authenticatorData: changed } },
      };
    };
    for (let i = 0; i < limit; i++) {
      const refused = await expectStatus(
        api(m).v1.auth.passkey.verify.$post({ json: await tampered() }),
        401,
      );
      expect(refused.code).toBe("invalid_webauthn_response");
    }
    const limited = await expectStatus(
      api(m).v1.auth.passkey.verify.$post({ json: await passkeyAssertion(m, auth) }),
      429,
    );
    expect(limited).toMatchObject({ code: "rate_limited", limit: "mfa_user" });
    // The same limits hold for the MFA challenge: a right passkey is not even checked now.
    const token = await challenge(m, user);
    const webauthn = await mfaAssertion(m, token, auth);
    const blocked = await expectStatus(
      api(m).v1.auth.mfa.verify.$post({ json: { challengeToken: token, webauthn } }),
      429,
    );
    expect(blocked).toMatchObject({ limit: "mfa_user" });
  });
}

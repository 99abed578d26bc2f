/**
 * Email verification, password and email change, and security notices, through the HTTP
 * interface; messages are read from the outbox as the dispatcher reads them (delivery itself
 * has its own tests: test/node/outbox*.test.ts, test/node/mail-*.test.ts).
 */
import { expect, it } from "vitest";
import {
  latestMessage,
  messagesTo,
  noticesTo,
  PASSWORD,
  signUp,
  uniqueEmail,
  verifyEmail,
} from "../support/fixtures";
import { api, expectStatus, type Harness, makeHarness } from "../support/harness";
import { codeAt, enrollTotp } from "../support/mfa";

const MINUTE = 60_000;
const NEW_PASSWORD = "a completely new passphrase";

export function emailSuite(h: () => Harness): void {
  const fresh = (env: Record<string, string> = {}) => {
    const m = makeHarness({ backend: h().backend, open: h().open, env });
    m.clock.set(h().clock.now());
    return m;
  };

  it("sends a verification link at registration; the link verifies once", async () => {
    const email = uniqueEmail();
    const reg = await expectStatus(
      api(h()).v1.auth.register.$post({ json: { email, password: PASSWORD } }),
      201,
    );
    expect(reg.user.emailVerified).toBe(false);
    const message = await latestMessage(h(), email, "email_verification");
    expect(message?.payload.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const verified = await expectStatus(
      api(h()).v1.auth.email.verify.$post({ json: { token: message!.payload.token! } }),
      200,
    );
    expect(verified.user).toMatchObject({ email, emailVerified: true });
    const again = await expectStatus(
      api(h()).v1.auth.email.verify.$post({ json: { token: message!.payload.token! } }),
      400,
    );
    expect(again.code).toBe("invalid_token");
    await expectStatus(api(h()).v1.auth.email.verify.$post({ json: { token: "x".repeat(43) } }), 400);
    // A taken address gets no second verification message and no new account.
    await expectStatus(api(h()).v1.auth.register.$post({ json: { email, password: PASSWORD } }), 409);
    expect((await messagesTo(h(), email)).filter((m) => m.kind === "email_verification")).toHaveLength(1);
  });

  it("restricts an unverified account: no factor, no tenant, until the address is verified", async () => {
    const user = await signUp(h(), { verified: false });
    const tenant = await expectStatus(
      api(h(), user.token).v1.tenants.$post({ json: { name: "Early" } }),
      403,
    );
    expect(tenant.code).toBe("email_not_verified");
    const totp = await expectStatus(api(h(), user.token).v1.mfa.totp.$post({ json: {} }), 403);
    expect(totp.code).toBe("email_not_verified");
    await verifyEmail(h(), user.email);
    await expectStatus(api(h(), user.token).v1.tenants.$post({ json: { name: "Later" } }), 201);
    await expectStatus(api(h(), user.token).v1.mfa.totp.$post({ json: {} }), 201);
  });

  it("refuses sign-in before verification with EMAIL_VERIFICATION=required, and lifts the gate with off", async () => {
    const strict = fresh({ EMAIL_VERIFICATION: "required" });
    const email = uniqueEmail();
    await expectStatus(api(strict).v1.auth.register.$post({ json: { email, password: PASSWORD } }), 201);
    const refused = await expectStatus(
      api(strict).v1.auth.login.$post({ json: { email, password: PASSWORD } }),
      403,
    );
    expect(refused.code).toBe("email_not_verified");
    await verifyEmail(strict, email);
    await expectStatus(api(strict).v1.auth.login.$post({ json: { email, password: PASSWORD } }), 200);

    const open = fresh({ EMAIL_VERIFICATION: "off" });
    const user = await signUp(open, { verified: false });
    await expectStatus(api(open, user.token).v1.tenants.$post({ json: { name: "Open" } }), 201);
  });

  it("resends verification messages within the shared 3-an-hour message limit; 409 once verified", async () => {
    const m = fresh();
    const user = await signUp(m, { verified: false });
    for (let i = 0; i < 4; i++)
      await expectStatus(api(m, user.token).v1.auth.email.verify.resend.$post(), 202);
    // The registration message does not count; three resends are sent, the fourth is not.
    expect((await messagesTo(m, user.email)).filter((x) => x.kind === "email_verification")).toHaveLength(4);
    await expectStatus(api(m).v1.auth.password.forgot.$post({ json: { email: user.email } }), 202);
    expect((await messagesTo(m, user.email)).filter((x) => x.kind === "password_reset")).toHaveLength(0);
    await verifyEmail(m, user.email);
    const done = await expectStatus(api(m, user.token).v1.auth.email.verify.resend.$post(), 409);
    expect(done.code).toBe("already_verified");
  });

  it("verifies the address with a completed password reset, and notifies the owner", async () => {
    const user = await signUp(h(), { verified: false });
    await expectStatus(api(h()).v1.auth.password.forgot.$post({ json: { email: user.email } }), 202);
    const reset = await latestMessage(h(), user.email, "password_reset");
    const done = await expectStatus(
      api(h()).v1.auth.password.reset.$post({
        json: { token: reset!.payload.token!, newPassword: NEW_PASSWORD },
      }),
      200,
    );
    expect(done.user.emailVerified).toBe(true);
    expect(await noticesTo(h(), user.email)).toEqual(["password_reset"]);
  });

  it("changes the password with the current one, revoking every other session", async () => {
    const user = await signUp(h());
    const other = await expectStatus(
      api(h()).v1.auth.login.$post({ json: { email: user.email, password: PASSWORD } }),
      200,
    );
    if (other.status !== "authenticated") throw new Error("no MFA here");
    const wrong = await expectStatus(
      api(h(), user.token).v1.auth.password.change.$post({
        json: { currentPassword: "not the password", newPassword: NEW_PASSWORD },
      }),
      401,
    );
    expect(wrong.code).toBe("invalid_credentials");
    const weak = await expectStatus(
      api(h(), user.token).v1.auth.password.change.$post({
        json: { currentPassword: PASSWORD, newPassword: "short" },
      }),
      400,
    );
    expect(weak.code).toBe("weak_password");
    await expectStatus(
      api(h(), user.token).v1.auth.password.change.$post({
        json: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
      }),
      204,
    );
    await expectStatus(api(h(), other.session.token).v1.me.$get(), 401);
    await expectStatus(api(h(), user.token).v1.me.$get(), 200);
    await expectStatus(
      api(h()).v1.auth.login.$post({ json: { email: user.email, password: PASSWORD } }),
      401,
    );
    await expectStatus(
      api(h()).v1.auth.login.$post({ json: { email: user.email, password: NEW_PASSWORD } }),
      200,
    );
    expect(await noticesTo(h(), user.email)).toEqual(["password_changed"]);
    const events = await expectStatus(
      api(h(), user.token).v1["security-events"].$get({ query: { type: "auth.password_changed" } }),
      200,
    );
    expect(events.events).toHaveLength(1);
  });

  it("changes the address: a link to the new one, notices to the old one, then the new address signs in", async () => {
    const m = fresh();
    const user = await signUp(m);
    const newEmail = uniqueEmail("moved");
    m.clock.advance(6 * MINUTE);
    const stale = await expectStatus(
      api(m, user.token).v1.auth.email.change.$post({ json: { newEmail } }),
      403,
    );
    expect(stale.code).toBe("reauthentication_required");
    await expectStatus(
      api(m, user.token).v1.auth.email.change.$post({ json: { newEmail, currentPassword: PASSWORD } }),
      202,
    );
    const link = await latestMessage(m, newEmail, "email_change");
    expect(link?.payload).toMatchObject({ newEmail, token: expect.any(String) });
    expect(await noticesTo(m, user.email)).toEqual(["email_change_requested"]);
    const changed = await expectStatus(
      api(m).v1.auth.email.change.confirm.$post({ json: { token: link!.payload.token! } }),
      200,
    );
    expect(changed.user).toMatchObject({ id: user.userId, email: newEmail, emailVerified: true });
    expect(await noticesTo(m, user.email)).toEqual(["email_change_requested", "email_changed"]);
    await expectStatus(api(m).v1.auth.login.$post({ json: { email: user.email, password: PASSWORD } }), 401);
    await expectStatus(api(m).v1.auth.login.$post({ json: { email: newEmail, password: PASSWORD } }), 200);
    await expectStatus(
      api(m).v1.auth.email.change.confirm.$post({ json: { token: link!.payload.token! } }),
      400,
    );
  });

  it("sends nothing to an address that has an account (same 202), and refuses a confirm once it is taken", async () => {
    const user = await signUp(h());
    const other = await signUp(h());
    await expectStatus(
      api(h(), user.token).v1.auth.email.change.$post({ json: { newEmail: other.email } }),
      202,
    );
    expect((await messagesTo(h(), other.email)).filter((x) => x.kind === "email_change")).toHaveLength(0);
    const target = uniqueEmail("contested");
    await expectStatus(api(h(), user.token).v1.auth.email.change.$post({ json: { newEmail: target } }), 202);
    const link = await latestMessage(h(), target, "email_change");
    await expectStatus(api(h()).v1.auth.register.$post({ json: { email: target, password: PASSWORD } }), 201);
    const taken = await expectStatus(
      api(h()).v1.auth.email.change.confirm.$post({ json: { token: link!.payload.token! } }),
      409,
    );
    expect(taken.code).toBe("email_taken");
  });

  it("sends a notice for every factor change and every recovery code spent", async () => {
    const m = fresh();
    const user = await signUp(m);
    const { factorId, secret, recoveryCodes } = await enrollTotp(m, user);
    await expectStatus(
      api(m, user.token).v1.mfa["recovery-codes"].$post({ json: { recoveryCode: recoveryCodes[0]! } }),
      201,
    );
    m.clock.advance(30_000);
    await expectStatus(
      api(m, user.token).v1.mfa.factors[":factorId"].$delete({
        param: { factorId },
        json: { code: codeAt(secret, m.clock.now()) },
      }),
      204,
    );
    expect(await noticesTo(m, user.email)).toEqual([
      "factor_added",
      "recovery_code_used",
      "recovery_codes_regenerated",
      "factor_removed",
    ]);
  });

  it("tells the owner once when the account-wide password limit trips", async () => {
    const m = fresh({ RATE_LIMIT_PASSWORD_PER_ACCOUNT: "3/900" });
    const user = await signUp(m);
    for (let i = 0; i < 5; i++) {
      await api(m, undefined, { "x-test-client-ip": `198.51.100.${i + 1}` }).v1.auth.login.$post({
        json: { email: user.email, password: "wrong password!" },
      });
    }
    expect(await noticesTo(m, user.email)).toEqual(["password_limit_reached"]);
  });
}

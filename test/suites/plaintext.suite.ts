/**
 * Nothing secret is stored in plain form: after flows that handle passwords, session,
 * challenge and reset tokens, TOTP secrets, recovery codes, IPs and user agents, every table of
 * the database is scanned for those values.
 */
import { expect, it } from "vitest";
import { devOutbox, signUp } from "../support/fixtures";
import { api, expectStatus, type Harness, makeHarness } from "../support/harness";
import { challenge, codeAt, enrollTotp, STEP_MS, stepStart } from "../support/mfa";

export function plaintextSuite(h: () => Harness): void {
  it("stores no password, token, TOTP secret, recovery code, IP or user agent in plain form", async () => {
    const m = makeHarness({ backend: h().backend, open: h().open, env: { APP_ENV: "development" } });
    m.clock.set(stepStart());
    const ip = "198.51.100.213";
    const userAgent = `PlaintextProbe/${crypto.randomUUID()}`;
    const headers = { "x-test-client-ip": ip, "user-agent": userAgent };
    const password = `plain-probe-${crypto.randomUUID()}`;
    const secrets: string[] = [password, ip, userAgent];
    const client = (token?: string) => api(m, token, headers);

    const user = await signUp(m, { password });
    secrets.push(user.token);
    const created = await expectStatus(client(user.token).v1.tenants.$post({ json: { name: "Probe" } }), 201);
    const tenantId = created.tenant.id;
    await expectStatus(
      client(user.token).v1.consents.$post({
        json: { policy: "privacy", version: "1", decision: "granted", tenantId },
      }),
      201,
    );
    const enrolled = await enrollTotp(m, user);
    secrets.push(enrolled.secret, ...enrolled.recoveryCodes);
    m.clock.advance(STEP_MS);
    const login = await expectStatus(
      client().v1.auth.login.$post({ json: { email: user.email, password } }),
      200,
    );
    if (login.status !== "mfa_required") throw new Error("an account with TOTP needs its second factor");
    secrets.push(login.challenge.token);
    const verified = await expectStatus(
      client().v1.auth.mfa.verify.$post({
        json: { challengeToken: login.challenge.token, code: codeAt(enrolled.secret, m.clock.now()) },
      }),
      200,
    );
    secrets.push(verified.session.token);
    await client().v1.auth.password.forgot.$post({ json: { email: user.email } });
    // The development outbox is left out of the app's type (it exists only in development).
    const [message] = await devOutbox(m, user.email);
    if (!message) throw new Error("no reset message");
    secrets.push(message.token);
    const newPassword = `new-plain-probe-${crypto.randomUUID()}`;
    secrets.push(newPassword);
    const reset = await expectStatus(
      client().v1.auth.password.reset.$post({
        json: { token: message.token, newPassword, recoveryCode: enrolled.recoveryCodes[0] },
      }),
      200,
    );
    secrets.push(reset.session.token);
    await challenge(m, { ...user, password: newPassword });

    const { db, t } = m.open();
    let rows = 0;
    for (const [name, table] of Object.entries(t)) {
      const dump = await db.select().from(table as typeof t.users);
      rows += dump.length;
      const text = JSON.stringify(dump).toLowerCase();
      for (const secret of secrets) {
        expect(text.includes(secret.toLowerCase()), `${name} holds a plain secret`).toBe(false);
        // Recovery codes also without their dashes.
        expect(text.includes(secret.toLowerCase().replaceAll("-", "")), `${name} holds a plain secret`).toBe(
          false,
        );
      }
    }
    expect(rows).toBeGreaterThan(20);
  });
}

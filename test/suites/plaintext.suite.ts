/**
 * Nothing secret is stored in plain form: after flows that handle passwords, session,
 * challenge and reset tokens, tenant API keys, webhook signing secrets, TOTP secrets, recovery codes, WebAuthn
 * challenges, IPs and user agents, every table of the database, and the account's export, are
 * scanned for those values. (What an account deletion leaves is scanned in account.suite.ts.)
 */
import { expect, it } from "vitest";
import { dumpTables, findInDump } from "../support/db-audit";
import {
  bearerToken,
  devOutbox,
  invitationToken,
  latestMessage,
  signUp,
  uniqueEmail,
} from "../support/fixtures";
import { api, DEFAULT_TEST_IP, expectStatus, type Harness, makeHarness } from "../support/harness";
import { challenge, codeAt, enrollTotp, STEP_MS, stepStart } from "../support/mfa";
import { SoftAuthenticator } from "../support/webauthn";

export function plaintextSuite(h: () => Harness): void {
  it("stores no password, token, TOTP secret, recovery code, IP or user agent in plain form", async () => {
    const m = makeHarness({ backend: h().backend, open: h().open, env: { APP_ENV: "development" } });
    m.clock.set(stepStart());
    const ip = "198.51.100.213";
    const userAgent = `PlaintextProbe/${crypto.randomUUID()}`;
    const headers = { "x-test-client-ip": ip, "user-agent": userAgent };
    const password = `plain-probe-${crypto.randomUUID()}`;
    // The default test address too: the fixtures' requests (sign-up, enrollment) come from it.
    const secrets: string[] = [password, ip, userAgent, DEFAULT_TEST_IP];
    const client = (token?: string) => api(m, token, headers);

    const user = await signUp(m, { password });
    secrets.push(user.token);
    const verification = await latestMessage(m, user.email, "email_verification");
    if (!verification?.payload.token) throw new Error("no verification message");
    secrets.push(verification.payload.token);
    const created = await expectStatus(client(user.token).v1.tenants.$post({ json: { name: "Probe" } }), 201);
    const tenantId = created.tenant.id;
    await expectStatus(
      client(user.token).v1.consents.$post({
        json: { policy: "privacy", version: "1", decision: "granted", tenantId },
      }),
      201,
    );
    // A pending invitation: its token is stored hashed only (the address, like an account's, in clear).
    const invitee = uniqueEmail("invited");
    await expectStatus(
      client(user.token).v1.tenants[":tenantId"].invitations.$post({
        param: { tenantId },
        json: { email: invitee, role: "member" },
      }),
      201,
    );
    secrets.push(await invitationToken(m, invitee));
    // A tenant API key, shown once, then used (introspection, a service usage write).
    const apiKey = await expectStatus(
      client(user.token).v1.tenants[":tenantId"]["api-keys"].$post({
        param: { tenantId },
        json: { name: "probe", scopes: ["sessions:introspect", "usage:write"] },
      }),
      201,
    );
    secrets.push(apiKey.key);
    const introspected = await expectStatus(
      client(apiKey.key).v1.service.introspect.$post({ json: { token: user.token } }),
      200,
    );
    expect(introspected.active).toBe(true);
    await expectStatus(
      client(apiKey.key).v1.service.usage.$post({
        header: { "idempotency-key": "probe-1" },
        json: { userId: user.userId, feature: "probe", quantity: 1 },
      }),
      200,
    );
    await m.settle();
    // A webhook's signing secret (and its key, the base64 after `whsec_`) is stored sealed only.
    const webhook = await expectStatus(
      client(user.token).v1.tenants[":tenantId"].webhooks.$post({
        param: { tenantId },
        json: { url: "http://127.0.0.1:9/plaintext-probe", events: ["*"] },
      }),
      201,
    );
    secrets.push(webhook.secret, webhook.secret.slice("whsec_".length));
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
    secrets.push(bearerToken(verified.session));
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
    secrets.push(bearerToken(reset.session));
    await challenge(m, { ...user, password: newPassword });
    // A passkey: its challenges are stored only as keyed hashes.
    const authenticator = new SoftAuthenticator();
    const passkeys = client(reset.session.token).v1.mfa.webauthn.registration;
    const { options: creation } = await expectStatus(passkeys.options.$post({ json: {} }), 200);
    secrets.push(creation.challenge as string);
    const response = await authenticator.create(creation);
    await expectStatus(passkeys.verify.$post({ json: { response } }), 201);
    const { options: request, passkeyChallengeId } = await expectStatus(
      client().v1.auth.passkey.options.$post(),
      200,
    );
    secrets.push(request.challenge as string);
    const assertion = await authenticator.get(request);
    const passkeySession = await expectStatus(
      client().v1.auth.passkey.verify.$post({ json: { passkeyChallengeId, response: assertion } }),
      200,
    );
    secrets.push(bearerToken(passkeySession.session));
    // The account export holds every record about the user, and none of those secrets.
    const exported = await client(reset.session.token).v1.me.export.$post({ json: {} });
    const exportText = await exported.text();
    expect(exported.status, exportText).toBe(200);

    // Every table, searched for each secret in plain form (any letter case), and as hex, base64
    // and base64url of its bytes; recovery codes also without their dashes.
    const dump = await dumpTables(m);
    const rows = [...dump.values()].reduce((n, text) => n + JSON.parse(text).length, 0);
    const needles = [...secrets, ...secrets.map((s) => s.replaceAll("-", ""))];
    expect(findInDump(dump, needles), "secrets stored in plain or encoded form").toEqual([]);
    expect(findInDump(new Map([["export", exportText]]), needles), "secrets in the export").toEqual([]);
    expect(findInDump(new Map([["export", exportText]]), [user.email])).not.toEqual([]);
    // The scan does find what is stored in clear (the address is, by design).
    expect(findInDump(dump, [user.email])).not.toEqual([]);
    expect(rows).toBeGreaterThan(20);
  });
}

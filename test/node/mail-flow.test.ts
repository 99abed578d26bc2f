/**
 * Mail end to end, on libSQL and Postgres: the request queues the message, the after-response
 * dispatch sends it through the real SMTP transport (nodemailer) to a real SMTP server, and the
 * link read from the received mail completes the flow: verification, password reset, email
 * change. The text and HTML bodies carry the same link; nothing else in them is a secret.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { nodemailerTransport } from "../../functions/mail/smtp-node";
import { mailTransportFor } from "../../functions/platform/mail";
import { PASSWORD, uniqueEmail } from "../support/fixtures";
import { api, expectStatus, type Harness, makeHarness, testConfig } from "../support/harness";
import { onNodeBackends } from "../support/node-backends";
import { type SmtpTestServer, startSmtpServer } from "../support/smtp-server";

let server: SmtpTestServer;
beforeAll(async () => {
  server = await startSmtpServer();
});
afterAll(async () => {
  await server?.close();
});

const APP_URL = "https://app.example.test";

/** The token of the one link to `path` in the newest mail to `to`, read from both bodies. */
function linkToken(to: string, path: string): string {
  const mail = server.messages.filter((m) => m.to.includes(to)).at(-1);
  if (!mail) throw new Error(`no mail to ${to}`);
  const pattern = new RegExp(`${APP_URL}${path}\\?token=([A-Za-z0-9_%-]+)`);
  const fromText = pattern.exec(mail.text)?.[1];
  expect(fromText, mail.text).toBeTruthy();
  expect(mail.html).toContain(`${path}?token=${fromText}`);
  return decodeURIComponent(fromText!);
}

onNodeBackends((h) => {
  let m: Harness;
  beforeAll(() => {
    const env = { MAIL_TRANSPORT: "smtp", SMTP_URL: server.url(), APP_URL, PRODUCT_NAME: "Acme Accounts" };
    m = makeHarness({
      backend: h().backend,
      open: h().open,
      env,
      mailTransport: mailTransportFor(testConfig(env), "node", nodemailerTransport),
    });
  });

  it("delivers the verification mail; its link verifies the address", async () => {
    const email = uniqueEmail("smtp");
    await expectStatus(api(m).v1.auth.register.$post({ json: { email, password: PASSWORD } }), 201);
    await m.settle();
    const mail = server.messages.filter((x) => x.to.includes(email)).at(-1)!;
    expect(mail.subject).toContain("Acme Accounts");
    expect(mail.envelopeTo).toEqual([email]);
    const verified = await expectStatus(
      api(m).v1.auth.email.verify.$post({ json: { token: linkToken(email, "/verify-email") } }),
      200,
    );
    expect(verified.user.emailVerified).toBe(true);
  });

  it("delivers the reset mail; its link resets the password; a notice follows", async () => {
    const email = uniqueEmail("smtp");
    await expectStatus(api(m).v1.auth.register.$post({ json: { email, password: PASSWORD } }), 201);
    await expectStatus(api(m).v1.auth.password.forgot.$post({ json: { email } }), 202);
    await m.settle();
    const newPassword = "reset over real smtp";
    await expectStatus(
      api(m).v1.auth.password.reset.$post({
        json: { token: linkToken(email, "/reset-password"), newPassword },
      }),
      200,
    );
    await m.settle();
    expect(server.messages.filter((x) => x.to.includes(email)).at(-1)?.subject).toMatch(
      /password was reset/i,
    );
    await expectStatus(api(m).v1.auth.login.$post({ json: { email, password: newPassword } }), 200);
  });

  it("delivers the email-change mail to the new address; its link moves the account", async () => {
    const email = uniqueEmail("smtp");
    await expectStatus(api(m).v1.auth.register.$post({ json: { email, password: PASSWORD } }), 201);
    const login = await expectStatus(
      api(m).v1.auth.login.$post({ json: { email, password: PASSWORD } }),
      200,
    );
    if (login.status !== "authenticated") throw new Error("no MFA here");
    const newEmail = uniqueEmail("smtp-new");
    await expectStatus(api(m, login.session.token).v1.auth.email.change.$post({ json: { newEmail } }), 202);
    await m.settle();
    const changed = await expectStatus(
      api(m).v1.auth.email.change.confirm.$post({
        json: { token: linkToken(newEmail, "/confirm-email-change") },
      }),
      200,
    );
    expect(changed.user.email).toBe(newEmail);
    await m.settle();
    const toOld = server.messages.filter((x) => x.to.includes(email)).map((x) => x.subject);
    expect(toOld.some((s) => /email address was changed/i.test(s))).toBe(true);
  });
});

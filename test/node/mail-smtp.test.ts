/**
 * SMTP on Node and Lambda (Nodemailer) against a real SMTP server on 127.0.0.1: every kind of
 * message arrives as rendered, and each failure is classified (retryable or not) within the
 * configured timeout, with a reason that names no recipient.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MailConfig } from "../../functions/config";
import { renderMessage } from "../../functions/mail/messages";
import { nodemailerOptions, nodemailerTransport, smtpFailure } from "../../functions/mail/smtp-node";
import type { SmtpMailConfig } from "../../functions/mail/transports";
import { MailDeliveryError, type MessageKind, type MessagePayload } from "../../functions/mail/types";
import { mailTransportFor } from "../../functions/platform/mail";
import { freePort } from "../support/ports";
import { type SmtpTestServer, startSmtpServer } from "../support/smtp-server";

const CREDENTIALS = { user: "mailer@acme.example", pass: "p@ss:word/with spaces" };
const TOKEN = "Zm9v+YmFy/YmF6=~-_.";

let server: SmtpTestServer;
let smtp: SmtpMailConfig;

beforeAll(async () => {
  server = await startSmtpServer({ auth: CREDENTIALS });
  smtp = {
    transport: "smtp",
    smtpUrl: server.url(CREDENTIALS),
    from: "Acme Cloud <no-reply@acme.example>",
    appUrl: "https://app.acme.example",
    productName: "Acme Cloud",
    timeoutMs: 2000,
  };
});

afterAll(async () => {
  await server?.close();
});

/** The rejection of `promise`, with how long it took to come. */
async function failure(promise: Promise<unknown>): Promise<{ error: MailDeliveryError; ms: number }> {
  const started = performance.now();
  const error = await promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MailDeliveryError);
  return { error: error as MailDeliveryError, ms: performance.now() - started };
}

const cases: { kind: MessageKind; payload: MessagePayload; to: string; path?: string }[] = [
  { kind: "password_reset", payload: { token: TOKEN }, to: "ann@example.com", path: "reset-password" },
  { kind: "email_verification", payload: { token: TOKEN }, to: "ann@example.com", path: "verify-email" },
  {
    kind: "email_change",
    payload: { token: TOKEN, newEmail: "ann.new@example.com" },
    to: "ann.new@example.com",
    path: "confirm-email-change",
  },
  {
    kind: "tenant_invitation",
    payload: { token: TOKEN, tenantName: "Globex <script>alert(1)</script> Ünïcödé", role: "admin" },
    to: "bob@example.com",
    path: "accept-invitation",
  },
  {
    kind: "security_notice",
    payload: { reason: "email_changed", newEmail: "ann.new@example.com" },
    to: "ann.old@example.com",
  },
  { kind: "security_notice", payload: { reason: "factor_added" }, to: "ann@example.com" },
];

describe("SMTP transport (Nodemailer) against a real SMTP server", () => {
  for (const { kind, payload, to, path } of cases) {
    it(`${kind}${payload.reason ? ` (${payload.reason})` : ""}: arrives with its recipient, subject, text and HTML`, async () => {
      server.behave({ kind: "accept" });
      const before = server.messages.length;
      const message = renderMessage(kind, payload, smtp, to);
      await nodemailerTransport(smtp).send(message);

      expect(server.messages).toHaveLength(before + 1);
      const got = server.messages.at(-1)!;
      expect(got.user).toBe(CREDENTIALS.user);
      expect(got.envelopeFrom).toBe("no-reply@acme.example");
      expect(got.envelopeTo).toEqual([to]);
      expect(got.to).toEqual([to]);
      expect(got.from).toBe("no-reply@acme.example");
      expect(got.subject).toBe(message.subject);
      expect(got.text.trimEnd()).toBe(message.text.trimEnd());
      expect(got.html.trimEnd()).toBe(message.html.trimEnd());

      const links = got.text.match(/https:\/\/\S+/g) ?? [];
      if (path) {
        expect(links).toHaveLength(1);
        const url = new URL(links[0]!);
        expect(url.origin + url.pathname).toBe(`https://app.acme.example/${path}`);
        expect(url.searchParams.get("token")).toBe(TOKEN);
        expect(got.html).toContain(
          `href="https://app.acme.example/${path}?token=${encodeURIComponent(TOKEN)}"`,
        );
      } else {
        expect(links).toEqual(["https://app.acme.example"]);
        expect(got.text).not.toContain("token");
      }
      if (kind === "tenant_invitation") {
        expect(got.subject).toContain("Globex <script>alert(1)</script> Ünïcödé");
        expect(got.html).not.toContain("<script>");
        expect(got.html).toContain("Globex &lt;script&gt;alert(1)&lt;/script&gt; Ünïcödé");
      }
    });
  }

  it("through mailTransportFor on Node", async () => {
    server.behave({ kind: "accept" });
    const transport = mailTransportFor({ mail: smtp }, "node", nodemailerTransport);
    expect(transport.name).toBe("smtp");
    await transport.send(renderMessage("password_reset", { token: "t" }, smtp, "cy@example.com"));
    expect(server.messages.at(-1)!.envelopeTo).toEqual(["cy@example.com"]);
  });

  it("451 on the recipient: retryable, and the reason is the code only", async () => {
    server.behave({ kind: "refuse-recipients", code: 451 });
    const { error } = await failure(
      nodemailerTransport(smtp).send(
        renderMessage("password_reset", { token: TOKEN }, smtp, "dan@example.com"),
      ),
    );
    expect(error.retryable).toBe(true);
    expect(error.reason).toBe("smtp 451");
    expect(error.message).toBe("smtp 451");
    expect(error.cause).toBeUndefined();
  });

  it("550 on the recipient: not retryable", async () => {
    server.behave({ kind: "refuse-recipients", code: 550 });
    const { error } = await failure(
      nodemailerTransport(smtp).send(
        renderMessage("password_reset", { token: TOKEN }, smtp, "dan@example.com"),
      ),
    );
    expect(error.retryable).toBe(false);
    expect(error.reason).toBe("smtp 550");
  });

  it("wrong credentials (535): not retryable, and the reason names no credential", async () => {
    server.behave({ kind: "accept" });
    const wrong = { ...smtp, smtpUrl: server.url({ user: CREDENTIALS.user, pass: "wrong" }) };
    const { error } = await failure(
      nodemailerTransport(wrong).send(
        renderMessage("password_reset", { token: TOKEN }, wrong, "dan@example.com"),
      ),
    );
    expect(error).toMatchObject({ retryable: false, reason: "smtp 535" });
  });

  it("a server that never greets: retryable timeout within the configured timeout", async () => {
    server.behave({ kind: "hang-greeting" });
    const quick = { ...smtp, timeoutMs: 400 };
    const { error, ms } = await failure(
      nodemailerTransport(quick).send(
        renderMessage("password_reset", { token: TOKEN }, quick, "dan@example.com"),
      ),
    );
    expect(error.retryable).toBe(true);
    expect(error.reason).toMatch(/^smtp (ETIMEDOUT|timeout)$/);
    expect(ms).toBeGreaterThanOrEqual(350);
    // Bounded by our 400 ms, not by Nodemailer's defaults (30 s greeting, 10 min socket); the
    // margin is for a loaded machine.
    expect(ms).toBeLessThan(400 + 1000);
  });

  it("a server that never acknowledges the message: retryable timeout within the configured timeout", async () => {
    server.behave({ kind: "hang-data" });
    const quick = { ...smtp, timeoutMs: 400 };
    const { error, ms } = await failure(
      nodemailerTransport(quick).send(
        renderMessage("password_reset", { token: TOKEN }, quick, "dan@example.com"),
      ),
    );
    expect(error.retryable).toBe(true);
    expect(error.reason).toMatch(/^smtp (ETIMEDOUT|timeout)$/);
    // Bounded by our 400 ms, not by Nodemailer's defaults (30 s greeting, 10 min socket); the
    // margin is for a loaded machine.
    expect(ms).toBeLessThan(400 + 1000);
  });

  it("a refused connection: retryable", async () => {
    const closed = { ...smtp, smtpUrl: `smtp://127.0.0.1:${await freePort()}` };
    const { error } = await failure(
      nodemailerTransport(closed).send(
        renderMessage("password_reset", { token: TOKEN }, closed, "dan@example.com"),
      ),
    );
    expect(error).toMatchObject({ retryable: true, reason: "smtp ECONNREFUSED" });
  });
});

describe("Nodemailer options and error mapping", () => {
  const base = {
    transport: "smtp",
    from: "a@x.io",
    appUrl: "https://x.io",
    productName: "X",
    timeoutMs: 1234,
  } as const;

  it("bounds every wait by timeoutMs and never reads files or URLs", () => {
    const o = nodemailerOptions({ ...base, smtpUrl: "smtp://127.0.0.1:2525" });
    expect(o).toMatchObject({
      connectionTimeout: 1234,
      greetingTimeout: 1234,
      socketTimeout: 1234,
      dnsTimeout: 1234,
      disableFileAccess: true,
      disableUrlAccess: true,
      requireTLS: false,
    });
  });

  it("requires STARTTLS when credentials go to another host, not on loopback or with smtps", () => {
    const tls = (smtpUrl: string) => nodemailerOptions({ ...base, smtpUrl }).requireTLS;
    expect(tls("smtp://user:pass@smtp.example.com:587")).toBe(true);
    expect(tls("smtp://smtp.example.com:587")).toBe(false);
    expect(tls("smtp://user:pass@localhost:2525")).toBe(false);
    expect(tls("smtp://user:pass@127.0.0.1:2525")).toBe(false);
    expect(tls("smtp://user:pass@[::1]:2525")).toBe(false);
    expect(tls("smtps://user:pass@smtp.example.com:465")).toBe(false);
  });

  it("maps replies and codes: 4xx and connection errors retry, 5xx and message errors do not", () => {
    const map = (e: object) => {
      const m = smtpFailure(Object.assign(new Error("550 5.1.1 <dan@example.com> unknown"), e));
      return [m.reason, m.retryable];
    };
    expect(map({ code: "EENVELOPE", responseCode: 421 })).toEqual(["smtp 421", true]);
    expect(map({ code: "EENVELOPE", responseCode: 452 })).toEqual(["smtp 452", true]);
    expect(map({ code: "EMESSAGE", responseCode: 552 })).toEqual(["smtp 552", false]);
    expect(map({ code: "EAUTH", responseCode: 535 })).toEqual(["smtp 535", false]);
    expect(map({ code: "ETIMEDOUT" })).toEqual(["smtp ETIMEDOUT", true]);
    expect(map({ code: "ECONNECTION" })).toEqual(["smtp ECONNECTION", true]);
    expect(map({ code: "ESOCKET", originalCode: "ECONNRESET" })).toEqual(["smtp ECONNRESET", true]);
    expect(map({ code: "EDNS" })).toEqual(["smtp EDNS", true]);
    expect(map({ code: "ETLS" })).toEqual(["smtp ETLS", true]);
    expect(map({ code: "EENVELOPE" })).toEqual(["smtp EENVELOPE", false]);
    expect(map({ code: "nonsense <dan@example.com>" })).toEqual(["smtp Error", true]);
    const odd = new MailDeliveryError("smtp timeout", true);
    expect(smtpFailure(odd)).toBe(odd);
  });

  it("a config with another transport is refused by mailTransportFor only where it cannot work", () => {
    const log: MailConfig = { ...base, transport: "log" };
    expect(mailTransportFor({ mail: log }, "node").name).toBe("log");
  });
});

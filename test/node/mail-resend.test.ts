/**
 * The Resend transport (fetch) against a local stand-in for Resend's API: the request is what
 * Resend documents, and each answer is classified (retryable or not) within the configured
 * timeout, with a reason that names no recipient and no key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderMessage } from "../../functions/mail/messages";
import { type ResendMailConfig, resendTransport } from "../../functions/mail/transports";
import { MailDeliveryError, type MailMessage } from "../../functions/mail/types";
import { mailTransportFor, WORKERS_SMTP_UNSUPPORTED } from "../../functions/platform/mail";
import { freePort } from "../support/ports";
import { type ResendStandIn, startResendStandIn } from "../support/resend-standin";

const KEY = "re_test_0123456789abcdefghijklmnop";
const RECIPIENT = "ann@example.com";

let standIn: ResendStandIn;
let resend: ResendMailConfig;
let message: MailMessage;

beforeAll(async () => {
  standIn = await startResendStandIn(KEY);
  resend = {
    transport: "resend",
    resendApiKey: KEY,
    resendApiUrl: standIn.url,
    from: "Acme Cloud <no-reply@acme.example>",
    appUrl: "https://app.acme.example",
    productName: "Acme Cloud",
    timeoutMs: 2000,
  };
  message = renderMessage(
    "tenant_invitation",
    { token: "tok/en+1", tenantName: "Globex <b>", role: "member" },
    resend,
    RECIPIENT,
  );
});

afterAll(async () => {
  await standIn?.close();
});

async function failure(promise: Promise<unknown>): Promise<{ error: MailDeliveryError; ms: number }> {
  const started = performance.now();
  const error = await promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MailDeliveryError);
  const e = error as MailDeliveryError;
  // Stored as last_error: never the address, the key or the body.
  for (const secret of [RECIPIENT, KEY, message.subject, "tok"]) {
    expect(e.reason).not.toContain(secret);
    expect(e.message).not.toContain(secret);
  }
  expect(e.cause).toBeUndefined();
  return { error: e, ms: performance.now() - started };
}

describe("Resend transport against a stand-in for Resend's API", () => {
  it("POSTs /emails with the bearer key and { from, to: [to], subject, text, html }; a 200 is delivered", async () => {
    standIn.behave({ kind: "accept" });
    const before = standIn.requests.length;
    await resendTransport(resend).send(message);

    expect(standIn.requests).toHaveLength(before + 1);
    const request = standIn.requests.at(-1)!;
    expect(request.method).toBe("POST");
    expect(request.path).toBe("/emails");
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(request.body)).toEqual({
      from: "Acme Cloud <no-reply@acme.example>",
      to: [RECIPIENT],
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
    expect(standIn.accepted.at(-1)!.email.to).toEqual([RECIPIENT]);
  });

  it("is what mailTransportFor picks for MAIL_TRANSPORT=resend on Workers and on Node", async () => {
    standIn.behave({ kind: "accept" });
    for (const platform of ["workers", "node"] as const) {
      const transport = mailTransportFor({ mail: resend }, platform);
      expect(transport.name).toBe("resend");
      await transport.send(message);
    }
  });

  it("a wrong key (403 invalid_api_key): not retryable", async () => {
    standIn.behave({ kind: "accept" });
    const { error } = await failure(resendTransport({ ...resend, resendApiKey: "re_wrong" }).send(message));
    expect(error).toMatchObject({ reason: "resend 403", retryable: false });
  });

  for (const status of [401, 422]) {
    it(`${status}: not retryable`, async () => {
      standIn.behave({ kind: "status", status });
      const { error } = await failure(resendTransport(resend).send(message));
      expect(error).toMatchObject({ reason: `resend ${status}`, retryable: false });
    });
  }

  for (const status of [429, 500, 503]) {
    it(`${status}: retryable`, async () => {
      standIn.behave({ kind: "status", status });
      const { error } = await failure(resendTransport(resend).send(message));
      expect(error).toMatchObject({ reason: `resend ${status}`, retryable: true });
    });
  }

  it("a request Resend refuses as invalid (422) is refused by the stand-in too", async () => {
    standIn.behave({ kind: "accept" });
    const response = await fetch(`${standIn.url}/emails`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ from: "a@x.io", to: [], subject: "s", text: "t" }),
    });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ statusCode: 422, name: "validation_error" });
  });

  it("a redirect is not followed (the key goes nowhere else): not retryable", async () => {
    standIn.behave({ kind: "redirect" });
    const before = standIn.requests.length;
    const { error } = await failure(resendTransport(resend).send(message));
    expect(error).toMatchObject({ reason: "resend 307", retryable: false });
    expect(standIn.requests).toHaveLength(before + 1);
  });

  it("no answer: a retryable timeout within the configured timeout", async () => {
    standIn.behave({ kind: "hang" });
    const quick = { ...resend, timeoutMs: 300 };
    const { error, ms } = await failure(resendTransport(quick).send(message));
    expect(error).toMatchObject({ reason: "resend TimeoutError", retryable: true });
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(300 + 1000);
  });

  it("a 200 whose body never ends is delivered, not retried (a retry would send a second copy)", async () => {
    standIn.behave({ kind: "stall-body" });
    const quick = { ...resend, timeoutMs: 1000 };
    const started = performance.now();
    await resendTransport(quick).send(message);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("a refused connection: retryable", async () => {
    const closed = { ...resend, resendApiUrl: `http://127.0.0.1:${await freePort()}` };
    const { error } = await failure(resendTransport(closed).send(message));
    expect(error).toMatchObject({ reason: "resend TypeError", retryable: true });
  });
});

describe("mailTransportFor", () => {
  const base = { from: "a@x.io", appUrl: "https://x.io", productName: "X", timeoutMs: 1000 } as const;

  it("log sends nothing and succeeds, on every platform", async () => {
    for (const platform of ["workers", "node"] as const) {
      const transport = mailTransportFor({ mail: { ...base, transport: "log" } }, platform);
      expect(transport.name).toBe("log");
      await expect(transport.send(message)).resolves.toBeUndefined();
    }
  });

  it("smtp on Workers fails at start-up naming resend; on Node it needs the Nodemailer transport", () => {
    const mail = { ...base, transport: "smtp", smtpUrl: "smtp://127.0.0.1:2525" } as const;
    expect(() => mailTransportFor({ mail }, "workers")).toThrow(WORKERS_SMTP_UNSUPPORTED);
    expect(WORKERS_SMTP_UNSUPPORTED).toMatch(/MAIL_TRANSPORT=resend/);
    expect(() => mailTransportFor({ mail }, "node")).toThrow(/smtp-node\.ts/);
    const fake = { name: "smtp", send: async () => {} };
    expect(mailTransportFor({ mail }, "node", () => fake)).toBe(fake);
  });
});

/**
 * Mail transports inside workerd: MAIL_TRANSPORT=smtp is refused at start-up naming resend
 * (platform/mail.ts says why), and the Resend transport runs on the Workers runtime's fetch,
 * AbortSignal.timeout and Response (the request it sends, the statuses, a deadline, a refused
 * connection through workerd's real fetch).
 */
import { describe, expect, it } from "vitest";
import { renderMessage } from "../../functions/mail/messages";
import { type ResendMailConfig, resendTransport } from "../../functions/mail/transports";
import { MailDeliveryError } from "../../functions/mail/types";
import { mailTransportFor, WORKERS_SMTP_UNSUPPORTED } from "../../functions/platform/mail";

const KEY = "re_test_workers_0123456789";
const resend: ResendMailConfig = {
  transport: "resend",
  resendApiKey: KEY,
  resendApiUrl: "https://api.resend.test",
  from: "Acme <no-reply@acme.example>",
  appUrl: "https://app.acme.example",
  productName: "Acme",
  timeoutMs: 1000,
};
const message = renderMessage("password_reset", { token: "t0k" }, resend, "ann@example.com");

async function failure(promise: Promise<unknown>): Promise<MailDeliveryError> {
  const error = await promise.then(
    () => new Error("expected a failure"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MailDeliveryError);
  return error as MailDeliveryError;
}

describe("mail on Workers", () => {
  it("MAIL_TRANSPORT=smtp fails at start-up with a message naming resend", () => {
    const mail = { ...resend, transport: "smtp", smtpUrl: "smtp://u:p@smtp.example.com:587" } as const;
    expect(() => mailTransportFor({ mail }, "workers")).toThrow(WORKERS_SMTP_UNSUPPORTED);
    expect(WORKERS_SMTP_UNSUPPORTED).toContain("MAIL_TRANSPORT=resend");
  });

  it("log and resend are available", () => {
    expect(mailTransportFor({ mail: { ...resend, transport: "log" } }, "workers").name).toBe("log");
    expect(mailTransportFor({ mail: resend }, "workers").name).toBe("resend");
  });

  it("resend: sends Resend's request and takes a 200 as delivered", async () => {
    const seen: Request[] = [];
    const transport = resendTransport(resend, async (input, init) => {
      seen.push(new Request(input, init));
      return Response.json({ id: "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794" });
    });
    await transport.send(message);
    expect(seen).toHaveLength(1);
    const request = seen[0]!;
    expect(request.method).toBe("POST");
    expect(request.url).toBe("https://api.resend.test/emails");
    expect(request.headers.get("authorization")).toBe(`Bearer ${KEY}`);
    expect(request.headers.get("content-type")).toBe("application/json");
    expect(request.redirect).toBe("manual");
    expect(await request.json()).toEqual({
      from: message.from,
      to: ["ann@example.com"],
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
  });

  it("resend: 429 and 5xx retry, other 4xx do not", async () => {
    for (const [status, retryable] of [
      [401, false],
      [403, false],
      [422, false],
      [429, true],
      [500, true],
      [503, true],
    ] as const) {
      const transport = resendTransport(resend, async () =>
        Response.json({ statusCode: status, name: "x", message: "ann@example.com" }, { status }),
      );
      const error = await failure(transport.send(message));
      expect(error).toMatchObject({ reason: `resend ${status}`, retryable });
    }
  });

  it("resend: no answer within timeoutMs is a retryable TimeoutError (AbortSignal.timeout in workerd)", async () => {
    const transport = resendTransport({ ...resend, timeoutMs: 150 }, (_input, init) => {
      const signal = init?.signal as AbortSignal;
      return new Promise<Response>((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
      );
    });
    const started = Date.now();
    const error = await failure(transport.send(message));
    expect(error).toMatchObject({ reason: "resend TimeoutError", retryable: true });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("resend: a refused connection through workerd's own fetch is retryable", async () => {
    const transport = resendTransport({ ...resend, resendApiUrl: "http://127.0.0.1:1" });
    const error = await failure(transport.send(message));
    expect(error.retryable).toBe(true);
    // workerd rejects with a plain Error("Network connection lost.") (and logs it as an uncaught
    // exception of its own even though it is caught: a bare fetch(...).catch() logs the same).
    expect(error.reason).toMatch(/^resend (Error|TypeError)$/);
    expect(error.reason).not.toContain("ann@example.com");
  });
});

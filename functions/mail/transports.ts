/**
 * The transports that run everywhere (Workers, Lambda, Node): `log` and Resend's HTTP API over
 * `fetch`. SMTP needs sockets and lives in its own modules (smtp-node.ts with Nodemailer,
 * smtp-workers.ts), chosen by platform/mail.ts.
 *
 * Failures are MailDeliveryError with a `reason` made only of the provider, the status code or
 * the error's name: never the recipient, the body, the key or a provider's message (which can
 * quote the address). No `cause` is attached for the same reason (a logged cause would print it).
 */
import type { MailConfig } from "../config";
import { MailDeliveryError, type MailMessage, type MailTransport } from "./types";

export type LogMailConfig = Extract<MailConfig, { transport: "log" }>;
export type ResendMailConfig = Extract<MailConfig, { transport: "resend" }>;
export type SmtpMailConfig = Extract<MailConfig, { transport: "smtp" }>;

/**
 * Development: sends nothing and keeps nothing (the queued message stays readable in
 * `/v1/dev/outbox`); every send succeeds.
 */
export function logTransport(): MailTransport {
  return {
    name: "log",
    async send() {},
  };
}

/** A short, safe name for a thrown value: its `name` when it looks like an identifier. */
export function errorName(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === "string" && /^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(name) ? name : "Error";
}

/**
 * Resend (https://resend.com/docs/api-reference/emails/send-email): POST `${resendApiUrl}/emails`
 * with the API key as a bearer token and `{ from, to: [to], subject, text, html }`; it answers
 * 200 `{ id }`, or an error document `{ statusCode, name, message }`. 2xx: delivered. 429, 5xx,
 * a network error or no answer (status line) within `timeoutMs`: retryable. Any other
 * status (401/403 key or sender, 422 validation): not retryable, the same request would fail
 * again. Redirects are not followed, so the key is only ever sent to the configured URL.
 */
export function resendTransport(
  mail: ResendMailConfig,
  fetchImpl: typeof fetch = (input, init) => fetch(input, init),
): MailTransport {
  const url = `${mail.resendApiUrl}/emails`;
  return {
    name: "resend",
    async send(message: MailMessage) {
      const signal = AbortSignal.timeout(mail.timeoutMs);
      let status: number;
      try {
        const response = await fetchImpl(url, {
          method: "POST",
          headers: {
            authorization: `Bearer ${mail.resendApiKey}`,
            "content-type": "application/json",
            accept: "application/json",
          },
          body: JSON.stringify({
            from: message.from,
            to: [message.to],
            subject: message.subject,
            text: message.text,
            html: message.html,
          }),
          redirect: "manual",
          signal,
        });
        status = response.status;
        // The status decides; the body is not needed (a 2xx names the id, an error document can
        // quote the address). Cancelled rather than read: once a 2xx has come, a slow or broken
        // body must not turn an accepted message into a retry, and so into a second copy.
        response.body?.cancel().catch(() => {});
      } catch (error) {
        throw new MailDeliveryError(`resend ${errorName(error)}`, true);
      }
      if (status >= 200 && status < 300) return;
      throw new MailDeliveryError(`resend ${status}`, status === 429 || status >= 500);
    },
  };
}

/**
 * Settles `work` within `ms`: past it, rejects with a retryable MailDeliveryError (`reason`)
 * and calls `onTimeout` (to close what the work holds open).
 */
export async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  reason: string,
  onTimeout?: () => void,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new MailDeliveryError(reason, true));
    }, ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

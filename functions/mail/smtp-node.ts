/**
 * SMTP on Node and Lambda, with Nodemailer. Import this module only from the Node and Lambda
 * side (it is handed to platform/mail.ts's mailTransportFor there): Nodemailer needs node:net
 * and node:tls and must stay out of the Worker bundle.
 *
 * `SMTP_URL` is `smtp://user:pass@host:port` (STARTTLS when the server offers it) or
 * `smtps://…` (TLS from the first byte). With credentials and a host other than the loopback
 * interface, STARTTLS is required: the password never crosses a network in the clear, even
 * when an attacker strips STARTTLS from the server's answer.
 */
import { createTransport } from "nodemailer";
import type { SMTPTransportOptions } from "nodemailer/lib/smtp-transport";
import { errorName, type SmtpMailConfig, withDeadline } from "./transports";
import { MailDeliveryError, type MailMessage, type MailTransport } from "./types";

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** Nodemailer's options for `mail`: one connection per message, every wait bounded by `timeoutMs`. */
export function nodemailerOptions(mail: SmtpMailConfig): SMTPTransportOptions {
  const url = new URL(mail.smtpUrl);
  const secure = url.protocol === "smtps:";
  const hasCredentials = url.username !== "" || url.password !== "";
  return {
    url: mail.smtpUrl,
    requireTLS: !secure && hasCredentials && !LOOPBACK.test(url.hostname),
    connectionTimeout: mail.timeoutMs,
    greetingTimeout: mail.timeoutMs,
    socketTimeout: mail.timeoutMs,
    dnsTimeout: mail.timeoutMs,
    // Messages are our own text and HTML: nothing may be read from files or URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
    debug: false,
  };
}

/** Nodemailer error codes that mean the message itself can never be sent as it is. */
const PERMANENT_CODES = new Set([
  "EENVELOPE",
  "EMESSAGE",
  "EMAXRECIPIENTS",
  "ECONFIG",
  "EFILEACCESS",
  "EURLACCESS",
]);

/**
 * A Nodemailer failure as a MailDeliveryError. An SMTP reply decides when there is one: 4xx is
 * temporary (greylisting, mailbox busy, 451 local error), 5xx permanent (550 no such user, 535
 * bad credentials, 552 too large). Without a reply: a connection that failed, closed or timed
 * out (ECONNREFUSED, ETIMEDOUT, ESOCKET, EDNS, ETLS…) is retryable; an envelope or message
 * Nodemailer refuses to send is not. `reason` is `smtp <code>`: never the server's text (which
 * often quotes the recipient).
 */
export function smtpFailure(error: unknown): MailDeliveryError {
  if (error instanceof MailDeliveryError) return error;
  const e = (error ?? {}) as { responseCode?: unknown; code?: unknown; originalCode?: unknown };
  const reply = typeof e.responseCode === "number" ? e.responseCode : undefined;
  if (reply !== undefined && reply >= 400 && reply < 600) {
    return new MailDeliveryError(`smtp ${reply}`, reply < 500);
  }
  const isCode = (c: unknown): c is string => typeof c === "string" && /^E[A-Z0-9_]{1,30}$/.test(c);
  const code = isCode(e.code) ? e.code : errorName(error);
  if (PERMANENT_CODES.has(code)) return new MailDeliveryError(`smtp ${code}`, false);
  // A socket error keeps the system's code beside Nodemailer's (ESOCKET + ECONNREFUSED).
  return new MailDeliveryError(`smtp ${isCode(e.originalCode) ? e.originalCode : code}`, true);
}

/** SMTP through Nodemailer (Node, Lambda). */
export function nodemailerTransport(mail: SmtpMailConfig): MailTransport {
  const transporter = createTransport(nodemailerOptions(mail));
  return {
    name: "smtp",
    async send(message: MailMessage) {
      try {
        await withDeadline(
          transporter.sendMail({
            from: message.from,
            to: message.to,
            subject: message.subject,
            text: message.text,
            html: message.html,
          }),
          mail.timeoutMs,
          "smtp timeout",
        );
      } catch (error) {
        throw smtpFailure(error);
      }
    },
  };
}

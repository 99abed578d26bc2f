/**
 * The mail transport the entries (Workers, Lambda, Node, `npm run outbox:dispatch`) send with.
 *
 * PLACEHOLDER until the transports (SMTP, Resend-style HTTP, log) land in functions/mail/: this
 * build has none, so it returns undefined for every MAIL_TRANSPORT, and then nothing is
 * dispatched: messages stay pending in the outbox (nothing is lost, nothing is marked failed)
 * until a build with a transport sends them. Replace the body with the mail module's factory.
 */
import type { MailConfig } from "../config";
import type { MailTransport } from "../mail/types";

export function configuredMailTransport(_mail: MailConfig): MailTransport | undefined {
  return undefined;
}

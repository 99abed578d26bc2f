/**
 * STUB, to be replaced by the mail engineer's real `functions/mail/messages.ts` (they own this
 * file): the minimal `renderMessage` the outbox dispatcher is written against, with the agreed
 * signature. Plain text naming the kind, the link token when there is one and a notice's
 * reason; no other payload field, no JSON.
 */
import type { MailConfig } from "../config";
import type { MailMessage, MessageKind, MessagePayload } from "./types";

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

export function renderMessage(
  kind: MessageKind,
  payload: MessagePayload,
  mail: MailConfig,
  to: string,
): MailMessage {
  const lines = [
    `${mail.productName}: ${kind.replaceAll("_", " ")}`,
    ...(payload.token ? [`Token: ${payload.token}`] : []),
    ...(payload.reason ? [`Reason: ${payload.reason.replaceAll("_", " ")}`] : []),
  ];
  return {
    to,
    from: mail.from,
    subject: kind,
    text: `${lines.join("\n")}\n`,
    html: lines.map((line) => `<p>${escapeHtml(line)}</p>`).join(""),
  };
}

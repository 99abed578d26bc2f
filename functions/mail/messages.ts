/**
 * Message rendering: one subject, plain text and HTML per message kind, from the outbox payload
 * and the mail configuration. Pure (no I/O), the same on every platform.
 *
 * Each message is first built as a list of blocks (paragraphs and at most one action link), and
 * the text and HTML bodies are both written from that list, so every interpolated value goes
 * through one escape for HTML. Values that come from users (a tenant's name, an address) are
 * also cleaned of control and bidirectional-formatting characters, so they cannot add lines to
 * the text or a header, nor reorder what a reader sees.
 *
 * Nothing secret is written except the one token a link message exists to carry, and that
 * only inside its link (URL-encoded).
 */
import type { MailConfig } from "../config";
import {
  MailDeliveryError,
  type MailMessage,
  type MessageKind,
  type MessagePayload,
  type NoticeReason,
} from "./types";

type Block = { paragraph: string } | { link: string; label: string };

interface Draft {
  subject: string;
  blocks: Block[];
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes a value for HTML text and for a double- or single-quoted attribute. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * A user-supplied value made safe for one line: C0/C1 controls (CR, LF, tab, NUL…), line and
 * paragraph separators and bidirectional formatting characters become one space, runs of
 * spaces collapse, and the ends are trimmed.
 */
export function oneLine(value: string): string {
  return value
    .replace(/[\p{Cc}\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+/gu, " ")
    .replace(/ {2,}/g, " ")
    .trim();
}

/** A refused payload: the message can never be rendered, so it is not retried. */
function invalid(what: string): MailDeliveryError {
  return new MailDeliveryError(`invalid payload: ${what}`, false);
}

function required(value: string | undefined, name: keyof MessagePayload): string {
  const v = value === undefined ? "" : oneLine(value);
  if (!v) throw invalid(`${name} missing`);
  return v;
}

function tokenLink(mail: MailConfig, path: string, token: string | undefined): string {
  if (!token) throw invalid("token missing");
  return `${mail.appUrl}/${path}?token=${encodeURIComponent(token)}`;
}

const sameAddress = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * One plain address (`local@domain`), as the API's Email schema accepts: no display name, no
 * list, no spaces, quotes, brackets or controls. Addresses are checked there already; this keeps
 * a transport from ever reading a recipient as several (`a@x.io, b@y.io`) or as a header.
 */
const PLAIN_ADDRESS = /^[^\s@,;:<>()[\]"\\\p{Cc}]{1,64}@[^\s@,;:<>()[\]"\\\p{Cc}]{1,253}$/u;

/** Subject and opening sentence of each security notice. */
const NOTICES: Record<NoticeReason, (p: MessagePayload) => { subject: string; what: string }> = {
  factor_added: () => ({
    subject: "A second factor was added to your account",
    what: "A second factor (an authenticator app) was added to your account.",
  }),
  factor_removed: () => ({
    subject: "A second factor was removed from your account",
    what: "A second factor was removed from your account. Signing in may now need one factor less.",
  }),
  recovery_codes_regenerated: () => ({
    subject: "New recovery codes were generated",
    what: "New recovery codes were generated for your account. The previous codes no longer work.",
  }),
  recovery_code_used: () => ({
    subject: "A recovery code was used",
    what: "A recovery code was used to sign in to your account. That code cannot be used again.",
  }),
  password_changed: () => ({
    subject: "Your password was changed",
    what: "The password of your account was changed.",
  }),
  password_reset: () => ({
    subject: "Your password was reset",
    what: "The password of your account was reset with a link sent to this address.",
  }),
  email_change_requested: (p) => ({
    subject: "A change of your email address was requested",
    what:
      `Someone signed in to your account asked to move it to ${required(p.newEmail, "newEmail")}. ` +
      "The change happens only when the link sent to that address is used.",
  }),
  email_changed: (p) => ({
    subject: "Your email address was changed",
    what:
      `The email address of your account was changed to ${required(p.newEmail, "newEmail")}. ` +
      "This address no longer receives messages for the account.",
  }),
  account_deleted: () => ({
    subject: "Your account was deleted",
    what: "Your account and the data it held were deleted.",
  }),
  password_limit_reached: () => ({
    subject: "Too many wrong passwords for your account",
    what:
      "Too many wrong passwords were entered for your account, so signing in with a password is " +
      "paused for a while. Your account is safe as long as your password is not known to others.",
  }),
};

function draft(kind: MessageKind, p: MessagePayload, mail: MailConfig, to: string): Draft {
  const product = oneLine(mail.productName);
  switch (kind) {
    case "password_reset":
      return {
        subject: `Reset your ${product} password`,
        blocks: [
          { paragraph: `Someone asked to reset the password of your ${product} account.` },
          { paragraph: "If it was you, open this link to choose a new password:" },
          { link: tokenLink(mail, "reset-password", p.token), label: "Choose a new password" },
          {
            paragraph:
              "The link works once and expires soon. If you did not ask for this, ignore this " +
              "message: your password stays as it is.",
          },
        ],
      };
    case "email_verification":
      return {
        subject: `Confirm your email address for ${product}`,
        blocks: [
          { paragraph: `Confirm that this address belongs to your ${product} account:` },
          { link: tokenLink(mail, "verify-email", p.token), label: "Confirm this address" },
          {
            paragraph: "The link expires after a day. If you did not create an account, ignore this message.",
          },
        ],
      };
    case "email_change": {
      // The confirmation proves that the new address is its owner's: it must go nowhere else.
      if (p.newEmail !== undefined && !sameAddress(p.newEmail, to)) {
        throw invalid("email_change goes to the new address");
      }
      return {
        subject: `Confirm your new email address for ${product}`,
        blocks: [
          { paragraph: `Someone asked to use this address for a ${product} account.` },
          { paragraph: "To confirm the change, open this link:" },
          { link: tokenLink(mail, "confirm-email-change", p.token), label: "Confirm the new address" },
          {
            paragraph:
              "Until you confirm, the account keeps its current address. The link expires after a " +
              "day. If you did not ask for this, ignore this message.",
          },
        ],
      };
    }
    case "tenant_invitation": {
      const tenant = required(p.tenantName, "tenantName");
      const role = required(p.role, "role");
      return {
        subject: `You are invited to join “${tenant}” on ${product}`,
        blocks: [
          { paragraph: `You are invited to join “${tenant}” on ${product} as ${role}.` },
          { paragraph: "To accept the invitation, open this link:" },
          { link: tokenLink(mail, "accept-invitation", p.token), label: "Accept the invitation" },
          { paragraph: "If you do not expect this invitation, ignore this message." },
        ],
      };
    }
    case "security_notice": {
      const reason = p.reason;
      if (!reason || !Object.hasOwn(NOTICES, reason)) throw invalid("reason missing or unknown");
      // email_changed goes to the old address: the new one learns nothing from it.
      if (reason === "email_changed" && p.newEmail !== undefined && sameAddress(p.newEmail, to)) {
        throw invalid("email_changed notice goes to the old address");
      }
      const { subject, what } = NOTICES[reason](p);
      // A reset link would go to the new address, and a deleted account has no password left.
      const hint =
        reason === "account_deleted" || reason === "email_changed"
          ? `If this wasn't you, someone else could sign in to your account: contact ${product} at once, ` +
            "and change the password of any other account that used the same one."
          : `If this wasn't you, reset your password at once (“Forgot password” on the ${product} ` +
            "sign-in page) and review the second factors of your account.";
      return {
        subject: `${product}: ${subject}`,
        blocks: [
          { paragraph: what },
          { paragraph: "If this was you, there is nothing to do." },
          { paragraph: hint },
          { link: mail.appUrl, label: `Open ${product}` },
          { paragraph: "This notice is sent for your account's security and cannot be turned off." },
        ],
      };
    }
    default:
      throw invalid("unknown kind");
  }
}

function textBody(d: Draft, product: string): string {
  const parts = d.blocks.map((b) => ("paragraph" in b ? b.paragraph : b.link));
  return `${parts.join("\n\n")}\n\n— ${product}\n`;
}

function htmlBody(d: Draft, product: string): string {
  const parts = d.blocks.map((b) =>
    "paragraph" in b
      ? `<p>${escapeHtml(b.paragraph)}</p>`
      : `<p><a href="${escapeHtml(b.link)}">${escapeHtml(b.label)}</a></p>\n` +
        `<p style="font-size:13px;color:#555">Or copy this address into your browser: ` +
        `<span style="word-break:break-all">${escapeHtml(b.link)}</span></p>`,
  );
  return (
    `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(d.subject)}</title></head>\n` +
    `<body style="font-family:sans-serif;line-height:1.5;max-width:600px">\n` +
    `${parts.join("\n")}\n<p>— ${escapeHtml(product)}</p>\n</body></html>\n`
  );
}

/**
 * Renders a queued message for `to` (the outbox recipient: for an email change, the new address;
 * for the email_changed notice, the old one). Throws a non-retryable MailDeliveryError when the
 * payload lacks what the kind needs, or names the wrong recipient.
 */
export function renderMessage(
  kind: MessageKind,
  payload: MessagePayload,
  mail: MailConfig,
  to: string,
): MailMessage {
  if (!PLAIN_ADDRESS.test(to)) throw invalid("recipient is not one plain address");
  if (payload.newEmail !== undefined && !PLAIN_ADDRESS.test(payload.newEmail)) {
    throw invalid("newEmail is not one plain address");
  }
  const d = draft(kind, payload, mail, to);
  const product = oneLine(mail.productName);
  const subject = oneLine(d.subject);
  return {
    to,
    from: mail.from,
    subject,
    text: textBody({ ...d, subject }, product),
    html: htmlBody({ ...d, subject }, product),
  };
}

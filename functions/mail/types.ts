/**
 * Outgoing mail: what a message is, what the outbox stores for it, and the one interface every
 * transport implements (SMTP, an HTTP provider API, or `log` for development).
 */

/** The kinds of message the service sends (the outbox's `kind`). */
export const MESSAGE_KINDS = [
  "password_reset",
  "email_verification",
  "email_change",
  "tenant_invitation",
  "security_notice",
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** Why a security notice is sent (the contract's list). */
export const NOTICE_REASONS = [
  "factor_added",
  "factor_removed",
  "recovery_codes_regenerated",
  "recovery_code_used",
  "password_changed",
  "password_reset",
  "email_change_requested",
  "email_changed",
  "account_deleted",
  "password_limit_reached",
] as const;
export type NoticeReason = (typeof NOTICE_REASONS)[number];

/**
 * What the outbox keeps for a message, sealed (AES-GCM, bound to the message id): the one token
 * the message exists to carry, if any, and what the text needs. Never a password or a secret
 * other than that token.
 */
export interface MessagePayload {
  /** The link token (reset, verification, email change, invitation). */
  token?: string;
  /** security_notice: why. */
  reason?: NoticeReason;
  /** email_change notice to the old address, and the change message: the new address. */
  newEmail?: string;
  /** tenant_invitation: the tenant's name and the role offered. */
  tenantName?: string;
  role?: string;
}

/** A rendered message, ready for a transport. */
export interface MailMessage {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * A transport's failure. `retryable`: a timeout, a connection error, a 429 or 5xx of the
 * provider (the dispatcher tries again later); otherwise the message can never be sent as it is
 * (a refused recipient, a 4xx) and is marked failed. `reason` is short and never holds the
 * recipient, the body or a token (it is stored in `last_error`).
 */
export class MailDeliveryError extends Error {
  override name = "MailDeliveryError";
  constructor(
    readonly reason: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
  }
}

export interface MailTransport {
  /** "smtp", "resend", "log": for logs and /readyz. */
  readonly name: string;
  /** Delivers the message or throws MailDeliveryError. Must settle within the configured timeout. */
  send(message: MailMessage): Promise<void>;
}

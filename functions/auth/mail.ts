/**
 * Messages the account flows queue: each is sealed (AES-GCM, bound to its id) and written to
 * the outbox in the same atomic batch as the change that causes it; the dispatcher sends it
 * right after the response and retries it until it is delivered (functions/outbox/).
 */
import { uuidv7 } from "uuidv7";
import type { RequestScope } from "../context";
import { generateToken, sha256Hex } from "../lib/tokens";
import type { MessageKind, MessagePayload, NoticeReason } from "../mail/types";
import type { OutboxMessage } from "../stores/outbox";

/** A sealed message for `kind`, ready for one of the outbox store's inserts (which set the recipient). */
export async function prepareMessage(
  scope: RequestScope,
  kind: MessageKind,
  payload: MessagePayload,
  userId: string | null,
): Promise<Omit<OutboxMessage, "recipient">> {
  const id = uuidv7();
  return {
    id,
    kind,
    userId,
    payload: await scope.vault.box.seal(JSON.stringify(payload), id),
    createdAt: scope.now,
  };
}

/** A security notice for `userId` (cannot be turned off by preferences). */
export function prepareNotice(
  scope: RequestScope,
  userId: string,
  reason: NoticeReason,
  extra: MessagePayload = {},
) {
  return prepareMessage(scope, "security_notice", { reason, ...extra }, userId);
}

/** A new email token (verification or change) for `userId` and `email`: the row (hashed) and the token to send. */
export async function prepareEmailToken(
  scope: RequestScope,
  userId: string,
  purpose: "verify_email" | "change_email",
  email: string,
) {
  const token = generateToken();
  const row = {
    id: uuidv7(),
    userId,
    purpose,
    email,
    tokenHash: await sha256Hex(token),
    createdAt: scope.now,
    expiresAt: new Date(scope.now.getTime() + scope.config.emailTokenTtlMs),
    usedAt: null,
  };
  return { token, row };
}

/**
 * Messages the account flows queue: each is sealed (AES-GCM, bound to its id) and written to
 * the outbox in the same atomic batch as the change that causes it; the dispatcher sends it
 * right after the response and retries it until it is delivered (functions/outbox/).
 */
import { eq, sql } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import type { Db, Query, Schema } from "../../db/database";
import type { RequestScope } from "../context";
import { generateToken, sha256Hex } from "../lib/tokens";
import type { MessageKind, MessagePayload, NoticeReason } from "../mail/types";
import { noteQueuedMessage } from "../outbox/queued";
import { rowWhere } from "../tenant-data/sql";

export type OutboxRow = Schema["outboxMessages"]["$inferInsert"];

/** A sealed outbox row for `kind` (recipient set by the insert below). */
export async function prepareMessage(
  scope: RequestScope,
  kind: MessageKind,
  payload: MessagePayload,
  userId: string | null,
): Promise<Omit<OutboxRow, "recipient">> {
  const id = uuidv7();
  const sealed = await scope.vault.box.seal(JSON.stringify(payload), id);
  // Sent right after the response (the periodic pass retries): see functions/outbox/queued.ts.
  noteQueuedMessage(id);
  return {
    id,
    kind,
    userId,
    payloadKeyId: sealed.keyId,
    payloadCiphertext: sealed.ciphertext,
    createdAt: scope.now,
    status: "pending",
    attempts: 0,
    nextAttemptAt: null,
    claimedUntil: null,
    lastError: null,
    sentAt: null,
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

/**
 * Insert of a message to the account's current address, read in the statement from the users
 * row (for a batch): nothing is written when the user does not exist.
 */
export function insertMessageToUser(
  db: Db,
  t: Schema,
  row: Omit<OutboxRow, "recipient">,
  userId: string,
): Query {
  return db
    .insert(t.outboxMessages)
    .select(
      rowWhere(
        t.outboxMessages,
        { ...row, recipient: sql`${t.users.email}` },
        t.users,
        eq(t.users.id, userId),
      ),
    );
}

/** Insert of a message to an explicit address (for a batch), only when user `userId` exists. */
export function insertMessageTo(
  db: Db,
  t: Schema,
  row: Omit<OutboxRow, "recipient">,
  to: string,
  userId: string,
): Query {
  return db
    .insert(t.outboxMessages)
    .select(rowWhere(t.outboxMessages, { ...row, recipient: to }, t.users, eq(t.users.id, userId)));
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

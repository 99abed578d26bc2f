/**
 * The outbox: messages to send (password reset mail today), queued in the same batch as the
 * change that causes them. The payload is stored sealed (AES-GCM, bound to the message id).
 */
import { asc, eq } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";
import type { SealedSecret } from "../lib/secret-box";
import { rowWhere } from "../tenant-data/sql";

export interface OutboxMessage {
  id: string;
  recipient: string;
  kind: string;
  /** Sealed with the message id as associated data. */
  payload: SealedSecret;
  createdAt: Date;
}

const outboxRow = (m: OutboxMessage) => ({
  id: m.id,
  recipient: m.recipient,
  kind: m.kind,
  payloadKeyId: m.payload.keyId,
  payloadCiphertext: m.payload.ciphertext,
  createdAt: m.createdAt,
});

/** Insert of a message with its sealed payload (for a batch). */
export function insertOutboxMessage(db: Db, t: Schema, m: OutboxMessage): Query {
  return db.insert(t.outboxMessages).values(outboxRow(m));
}

/** As insertOutboxMessage, but writes nothing unless user `userId` exists (same statement, same work). */
export function insertOutboxMessageForUser(db: Db, t: Schema, m: OutboxMessage, userId: string): Query {
  return db
    .insert(t.outboxMessages)
    .select(rowWhere(t.outboxMessages, outboxRow(m), t.users, eq(t.users.id, userId)));
}

/** Every message queued for `recipient`, oldest first (the development reader). */
export async function listOutboxMessages({ db, t }: Database, recipient: string): Promise<OutboxMessage[]> {
  const o = t.outboxMessages;
  const rows = await db
    .select({
      id: o.id,
      recipient: o.recipient,
      kind: o.kind,
      keyId: o.payloadKeyId,
      ciphertext: o.payloadCiphertext,
      createdAt: o.createdAt,
    })
    .from(o)
    .where(eq(o.recipient, recipient))
    .orderBy(asc(o.id));
  return rows.map(({ keyId, ciphertext, ...m }) => ({ ...m, payload: { keyId, ciphertext } }));
}

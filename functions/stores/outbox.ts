/**
 * The outbox: messages to send, queued in the same batch as the change that causes them. The
 * payload is stored sealed (AES-GCM, bound to the message id). A message is `pending` until a
 * dispatcher (functions/outbox/dispatch.ts) claims it (`sending`, with a lease), then `sent`,
 * `failed`, or `pending` again with a later `next_attempt_at` after a retryable failure.
 */
import { and, asc, eq, inArray, isNull, lt, lte, or, type SQL, sql } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";
import type { SealedSecret } from "../lib/secret-box";
import { noteQueuedMessage } from "../outbox/queued";
import { rowWhere } from "../tenant-data/sql";
import { isLiveUser } from "./users";

export interface OutboxMessage {
  id: string;
  recipient: string;
  kind: string;
  /** Sealed with the message id as associated data. */
  payload: SealedSecret;
  createdAt: Date;
  /** The account the message is about, if any. */
  userId?: string | null;
}

// Every column is given: the user-conditional insert (`insert … select`) lists them all, and a
// column left out would be written as null, not as its default.
const outboxRow = (m: Omit<OutboxMessage, "recipient"> & { recipient: string | SQL }) => ({
  id: m.id,
  recipient: m.recipient,
  kind: m.kind,
  payloadKeyId: m.payload.keyId,
  payloadCiphertext: m.payload.ciphertext,
  createdAt: m.createdAt,
  userId: m.userId ?? null,
  status: "pending" as const,
  attempts: 0,
  nextAttemptAt: null,
  claimedUntil: null,
  lastError: null,
  sentAt: null,
});

/**
 * Insert of a message with its sealed payload (for a batch). The id is noted for the current
 * request, which sends it right after its response (functions/outbox/queued.ts).
 */
export function insertOutboxMessage(db: Db, t: Schema, m: OutboxMessage): Query {
  noteQueuedMessage(m.id);
  return db.insert(t.outboxMessages).values(outboxRow(m));
}

/** As insertOutboxMessage, but writes nothing unless user `userId` is a live account (same statement, same work). */
export function insertOutboxMessageForUser(db: Db, t: Schema, m: OutboxMessage, userId: string): Query {
  noteQueuedMessage(m.id);
  return db
    .insert(t.outboxMessages)
    .select(
      rowWhere(
        t.outboxMessages,
        outboxRow({ ...m, userId }),
        t.users,
        and(eq(t.users.id, userId), isLiveUser(t)),
      ),
    );
}

/**
 * As insertOutboxMessage, to the account's current address, read in the statement from the
 * users row: nothing is written when user `userId` does not exist or was deleted (security notices).
 */
export function insertOutboxMessageToUser(
  db: Db,
  t: Schema,
  m: Omit<OutboxMessage, "recipient">,
  userId: string,
): Query {
  noteQueuedMessage(m.id);
  const row = outboxRow({ ...m, recipient: sql`${t.users.email}`, userId });
  return db
    .insert(t.outboxMessages)
    .select(rowWhere(t.outboxMessages, row, t.users, and(eq(t.users.id, userId), isLiveUser(t))));
}

/**
 * As insertOutboxMessageToUser, and only when `condition` also holds (same statement); returns
 * the message id when written. The deletion notice uses it: the address is read from the users
 * row in the statement, before the same batch erases it there.
 */
export function insertOutboxMessageToUserIf(
  db: Db,
  t: Schema,
  m: Omit<OutboxMessage, "recipient">,
  userId: string,
  condition: SQL,
) {
  noteQueuedMessage(m.id);
  const row = outboxRow({ ...m, recipient: sql`${t.users.email}`, userId });
  return db
    .insert(t.outboxMessages)
    .select(rowWhere(t.outboxMessages, row, t.users, and(eq(t.users.id, userId), condition)))
    .returning({ id: t.outboxMessages.id });
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

/**
 * A message a dispatcher may claim at `now`: pending and due (no `next_attempt_at`, or reached),
 * or `sending` under a claim that has run out (its dispatcher crashed or was cut off).
 */
function due(t: Schema, now: Date): SQL {
  const o = t.outboxMessages;
  return or(
    and(eq(o.status, "pending"), or(isNull(o.nextAttemptAt), lte(o.nextAttemptAt, now))),
    and(eq(o.status, "sending"), lt(o.claimedUntil, now)),
  )!;
}

/** Ids of up to `limit` messages due at `now`, oldest first; with `ids`, only among those. */
export async function listDueOutboxIds(
  { db, t }: Database,
  now: Date,
  limit: number,
  ids?: readonly string[],
): Promise<string[]> {
  const o = t.outboxMessages;
  if (ids && ids.length === 0) return [];
  const rows = await db
    .select({ id: o.id })
    .from(o)
    .where(and(due(t, now), ids ? inArray(o.id, [...ids]) : undefined))
    .orderBy(asc(o.id))
    .limit(limit);
  return rows.map((r) => r.id);
}

/** A message as its claimer holds it. `attempts` (this attempt's number) fences the claim. */
export interface ClaimedOutboxMessage {
  id: string;
  recipient: string;
  kind: string;
  payload: SealedSecret;
  attempts: number;
}

/**
 * Claims message `id` if it is still due: one conditional UPDATE, so of dispatchers racing for
 * a message exactly one gets it (the others' WHERE no longer matches: on Postgres the row lock
 * makes them re-check the updated row; SQLite runs writes one at a time). Counts the attempt.
 */
export async function claimOutboxMessage(
  { db, t }: Database,
  id: string,
  now: Date,
  leaseMs: number,
): Promise<ClaimedOutboxMessage | undefined> {
  const o = t.outboxMessages;
  const [row] = await db
    .update(o)
    .set({
      status: "sending",
      claimedUntil: new Date(now.getTime() + leaseMs),
      attempts: sql`${o.attempts} + 1`,
    })
    .where(and(eq(o.id, id), due(t, now)))
    .returning({
      id: o.id,
      recipient: o.recipient,
      kind: o.kind,
      keyId: o.payloadKeyId,
      ciphertext: o.payloadCiphertext,
      attempts: o.attempts,
    });
  if (!row) return undefined;
  const { keyId, ciphertext, ...rest } = row;
  return { ...rest, payload: { keyId, ciphertext } };
}

/** How a claimed attempt ended. `lastError` is a short reason, never a recipient, body or token. */
export type OutboxOutcome =
  | { status: "sent"; at: Date }
  | { status: "pending"; nextAttemptAt: Date; lastError: string }
  | { status: "failed"; lastError: string };

/**
 * Records an attempt's outcome, only while the claim is still this dispatcher's (status
 * `sending` at the attempt number it claimed): a dispatcher whose lease ran out and whose
 * message another one re-claimed changes nothing. Returns whether it did.
 */
export async function finishOutboxMessage(
  { db, t }: Database,
  claim: Pick<ClaimedOutboxMessage, "id" | "attempts">,
  outcome: OutboxOutcome,
): Promise<boolean> {
  const o = t.outboxMessages;
  const set =
    outcome.status === "sent"
      ? { status: "sent" as const, sentAt: outcome.at, claimedUntil: null }
      : outcome.status === "pending"
        ? {
            status: "pending" as const,
            nextAttemptAt: outcome.nextAttemptAt,
            claimedUntil: null,
            lastError: outcome.lastError,
          }
        : {
            status: "failed" as const,
            nextAttemptAt: null,
            claimedUntil: null,
            lastError: outcome.lastError,
          };
  const rows = await db
    .update(o)
    .set(set)
    .where(and(eq(o.id, claim.id), eq(o.status, "sending"), eq(o.attempts, claim.attempts)))
    .returning({ id: o.id });
  return rows.length > 0;
}

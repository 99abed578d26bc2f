/**
 * Webhook endpoints of a tenant and their deliveries (the webhook outbox). A delivery row is
 * written for every tenant security event an endpoint subscribes to, by the statement
 * `insertWebhookDeliveries` builds, which the security-event store adds after every insert of
 * a tenant event: same transaction (Postgres) or batch (SQLite), so an event and its
 * deliveries exist together or not at all. A delivery is `pending` until a dispatcher
 * (functions/webhooks/dispatch.ts) claims it (`sending`, with a lease), then `delivered`,
 * `failed`, or `pending` again with a later `next_attempt_at`.
 */
import { and, asc, desc, eq, inArray, isNull, lt, lte, or, type SQL, sql } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";
import type { SealedSecret } from "../lib/secret-box";
import { rowWhere } from "../tenant-data/sql";
import { noteWebhookEvent } from "../webhooks/queued";

/** Every event type, as a subscription. */
export const ALL_EVENTS = "*";

/**
 * The subscription as stored: `,a,b,` (or `,*,`). Matching is then a LIKE of `%,type,%`, the
 * same SQL on Postgres and SQLite (jsonb `?` and json_each differ per dialect); the commas keep
 * `auth.login` from matching `auth.login_failed`.
 */
export function encodeEvents(events: readonly string[]): string {
  return `,${events.join(",")},`;
}

export function decodeEvents(stored: string): string[] {
  return stored.split(",").filter(Boolean);
}

export interface NewWebhook {
  id: string;
  tenantId: string;
  url: string;
  events: readonly string[];
  /** Sealed with the webhook id as associated data. */
  secret: SealedSecret;
  createdBy: string;
  createdAt: Date;
}

export function insertWebhook(db: Db, t: Schema, w: NewWebhook): Query {
  return db.insert(t.webhooks).values({
    id: w.id,
    tenantId: w.tenantId,
    url: w.url,
    events: encodeEvents(w.events),
    secretKeyId: w.secret.keyId,
    secretCiphertext: w.secret.ciphertext,
    createdBy: w.createdBy,
    createdAt: w.createdAt,
  });
}

export function webhookView(w: { id: string; url: string; events: string; createdAt: Date }) {
  return { id: w.id, url: w.url, events: decodeEvents(w.events), createdAt: w.createdAt.toISOString() };
}

/** The tenant's webhooks, oldest first. */
export function listWebhooks({ db, t }: Database, tenantId: string) {
  const w = t.webhooks;
  return db
    .select({ id: w.id, url: w.url, events: w.events, createdAt: w.createdAt })
    .from(w)
    .where(eq(w.tenantId, tenantId))
    .orderBy(asc(w.id));
}

/** Whether webhook `id` belongs to the tenant. */
export async function webhookExists({ db, t }: Database, tenantId: string, id: string): Promise<boolean> {
  const w = t.webhooks;
  const rows = await db
    .select({ id: w.id })
    .from(w)
    .where(and(eq(w.tenantId, tenantId), eq(w.id, id)));
  return rows.length > 0;
}

/** Deletes the tenant's webhook `id` (its deliveries go with it); whether there was one. */
export async function deleteWebhook({ db, t }: Database, tenantId: string, id: string): Promise<boolean> {
  const w = t.webhooks;
  const rows = await db
    .delete(w)
    .where(and(eq(w.tenantId, tenantId), eq(w.id, id)))
    .returning({ id: w.id });
  return rows.length > 0;
}

/** What is POSTed for an event: its public fields (metadata holds ids, counts and reasons only). */
export interface WebhookEventBody {
  id: string;
  type: string;
  createdAt: string;
  tenantId: string;
  actorUserId: string | null;
  requestId: string;
  metadata: unknown;
}

export interface TenantEventRow {
  id: string;
  type: string;
  tenantId: string;
  actorUserId?: string | null | undefined;
  requestId: string;
  metadata: unknown;
  createdAt: Date;
}

/**
 * The outbox insert for one tenant event: a pending delivery for each of the tenant's webhooks
 * that subscribes to its type (or to `*`), written only if the event row exists (so it follows
 * a conditional event insert too). The delivery id is UUIDv7-shaped: the event id's first 24
 * characters (its time, version and random bits) and the webhook id's last 12, so it is unique
 * per (event, webhook) and sorts by event time; it is stored as text because Postgres casts
 * text to uuid only explicitly and SQLite has no uuid type to cast to.
 */
export function insertWebhookDeliveries(db: Db, t: Schema, e: TenantEventRow): Query {
  noteWebhookEvent(e.id);
  const w = t.webhooks;
  const body: WebhookEventBody = {
    id: e.id,
    type: e.type,
    createdAt: e.createdAt.toISOString(),
    tenantId: e.tenantId,
    actorUserId: e.actorUserId ?? null,
    requestId: e.requestId,
    metadata: e.metadata ?? {},
  };
  const subscribed = or(
    eq(w.events, encodeEvents([ALL_EVENTS])),
    // Event types are [a-z._]; `_` is a LIKE wildcard, hence the escape.
    sql`${w.events} like ${`%,${e.type.replace(/[\\%_]/g, "\\$&")},%`} escape '\\'`,
  );
  const eventWritten = sql`exists (select 1 from ${t.securityEvents} where ${t.securityEvents.id} = ${e.id})`;
  const row = {
    id: e.id,
    webhookId: sql`${w.id}`,
    tenantId: sql`${w.tenantId}`,
    eventId: e.id,
    eventType: e.type,
    payload: body,
    status: "pending" as const,
    attempts: 0,
    lastStatusCode: null,
    nextAttemptAt: null,
    claimedUntil: null,
    createdAt: e.createdAt,
    deliveredAt: null,
  };
  return db
    .insert(t.webhookDeliveries)
    .select(rowWhere(t.webhookDeliveries, row, w, and(eq(w.tenantId, e.tenantId), subscribed, eventWritten)));
}

/** The columns of a delivery that answers show. */
export function listDeliveries(
  { db, t }: Database,
  webhookId: string,
  q: { before?: string | undefined; limit: number },
) {
  const d = t.webhookDeliveries;
  return db
    .select({
      id: d.id,
      eventId: d.eventId,
      eventType: d.eventType,
      status: d.status,
      attempts: d.attempts,
      lastStatusCode: d.lastStatusCode,
      nextAttemptAt: d.nextAttemptAt,
      createdAt: d.createdAt,
    })
    .from(d)
    .where(and(eq(d.webhookId, webhookId), q.before ? lt(d.id, q.before) : undefined))
    .orderBy(desc(d.id))
    .limit(q.limit);
}

export type ListedDelivery = Awaited<ReturnType<typeof listDeliveries>>[number];

/** A delivery as answered: a claimed one (`sending`) shows as `pending`, its outcome not known yet. */
export function deliveryView(d: ListedDelivery) {
  return {
    id: d.id,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status === "sending" ? ("pending" as const) : d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    nextAttemptAt:
      d.status === "pending" || d.status === "sending" ? (d.nextAttemptAt?.toISOString() ?? null) : null,
    createdAt: d.createdAt.toISOString(),
  };
}

/** Due at `now`: pending and reached (or never delayed), or `sending` under a lease that ran out. */
function due(t: Schema, now: Date): SQL {
  const d = t.webhookDeliveries;
  return or(
    and(eq(d.status, "pending"), or(isNull(d.nextAttemptAt), lte(d.nextAttemptAt, now))),
    and(eq(d.status, "sending"), lt(d.claimedUntil, now)),
  )!;
}

/** A delivery's key: its webhook and its id (the event's). */
export interface DeliveryKey {
  webhookId: string;
  id: string;
}

/** Keys of up to `limit` deliveries due at `now`, oldest first; with `eventIds`, only theirs. */
export async function listDueDeliveryIds(
  { db, t }: Database,
  now: Date,
  limit: number,
  eventIds?: readonly string[],
): Promise<DeliveryKey[]> {
  const d = t.webhookDeliveries;
  if (eventIds && eventIds.length === 0) return [];
  return db
    .select({ webhookId: d.webhookId, id: d.id })
    .from(d)
    .where(and(due(t, now), eventIds ? inArray(d.eventId, [...eventIds]) : undefined))
    .orderBy(asc(d.id), asc(d.webhookId))
    .limit(limit);
}

/** A delivery as its claimer holds it; `attempts` (this attempt's number) fences the claim. */
export interface ClaimedDelivery {
  id: string;
  webhookId: string;
  payload: unknown;
  attempts: number;
  url: string;
  secret: SealedSecret;
}

/**
 * Claims delivery `id` if it is still due: one conditional UPDATE, so of dispatchers racing
 * for it exactly one gets it (as the mail outbox's claim). Counts the attempt. Then reads the
 * endpoint (a webhook deleted meanwhile took the delivery with it: nothing to send).
 */
export async function claimDelivery(
  { db, t }: Database,
  key: DeliveryKey,
  now: Date,
  leaseMs: number,
): Promise<ClaimedDelivery | undefined> {
  const d = t.webhookDeliveries;
  const [row] = await db
    .update(d)
    .set({
      status: "sending",
      claimedUntil: new Date(now.getTime() + leaseMs),
      attempts: sql`${d.attempts} + 1`,
    })
    .where(and(eq(d.webhookId, key.webhookId), eq(d.id, key.id), due(t, now)))
    .returning({ id: d.id, webhookId: d.webhookId, payload: d.payload, attempts: d.attempts });
  if (!row) return undefined;
  const w = t.webhooks;
  const [endpoint] = await db
    .select({ url: w.url, keyId: w.secretKeyId, ciphertext: w.secretCiphertext })
    .from(w)
    .where(eq(w.id, row.webhookId));
  if (!endpoint) return undefined;
  return { ...row, url: endpoint.url, secret: { keyId: endpoint.keyId, ciphertext: endpoint.ciphertext } };
}

/** How an attempt ended. `statusCode` is the receiver's HTTP status, null without an answer. */
export type DeliveryOutcome =
  | { status: "delivered"; at: Date; statusCode: number }
  | { status: "pending"; nextAttemptAt: Date; statusCode: number | null }
  | { status: "failed"; statusCode: number | null };

/**
 * Records an attempt's outcome while the claim is still this dispatcher's (status `sending` at
 * the attempt number it claimed); returns whether it did.
 */
export async function finishDelivery(
  { db, t }: Database,
  claim: Pick<ClaimedDelivery, "id" | "webhookId" | "attempts">,
  outcome: DeliveryOutcome,
): Promise<boolean> {
  const d = t.webhookDeliveries;
  const common = { claimedUntil: null, lastStatusCode: outcome.statusCode };
  const set =
    outcome.status === "delivered"
      ? { ...common, status: "delivered" as const, deliveredAt: outcome.at, nextAttemptAt: null }
      : outcome.status === "pending"
        ? { ...common, status: "pending" as const, nextAttemptAt: outcome.nextAttemptAt }
        : { ...common, status: "failed" as const, nextAttemptAt: null };
  const rows = await db
    .update(d)
    .set(set)
    .where(
      and(
        eq(d.webhookId, claim.webhookId),
        eq(d.id, claim.id),
        eq(d.status, "sending"),
        eq(d.attempts, claim.attempts),
      ),
    )
    .returning({ id: d.id });
  return rows.length > 0;
}

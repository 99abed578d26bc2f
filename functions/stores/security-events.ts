/** Security events: the append-only audit trail of an account and of a tenant. */
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Database, Db, Query, Schema } from "../../db/database";
import { rowWhere } from "../tenant-data/sql";
import { insertWebhookDeliveries } from "./webhooks";

export type SecurityEventInsert = Schema["securityEvents"]["$inferInsert"];

/** The columns of an event that answers show. */
const securityEventProjection = (t: Schema) => ({
  id: t.securityEvents.id,
  type: t.securityEvents.type,
  createdAt: t.securityEvents.createdAt,
  requestId: t.securityEvents.requestId,
  tenantId: t.securityEvents.tenantId,
  actorUserId: t.securityEvents.actorUserId,
  ipHash: t.securityEvents.ipHash,
  userAgentHash: t.securityEvents.userAgentHash,
  metadata: t.securityEvents.metadata,
});

export type ListedSecurityEvent = Awaited<ReturnType<typeof listSecurityEvents>>[number];

/** An event of the caller's own feed. */
export function securityEventView({ actorUserId: _, ...e }: ListedSecurityEvent) {
  return { ...e, createdAt: e.createdAt.toISOString(), metadata: (e.metadata ?? {}) as object };
}

/** An event of a tenant's feed: also who acted (null when nobody signed in did). */
export function tenantSecurityEventView(e: ListedSecurityEvent) {
  return { ...securityEventView(e), actorUserId: e.actorUserId };
}

/**
 * The statements that write events: the event insert, then, for each event of a tenant, the
 * insert of its webhook deliveries (functions/stores/webhooks.ts), so the webhook outbox is
 * written in the same transaction or batch as the event. Events without a tenant stay one
 * statement. Callers spread the result into their batch: `atomic((db) => [change, ...events])`.
 */
export type EventStatements = [Query, ...Query[]];

function withDeliveries(db: Db, t: Schema, insert: Query, rows: SecurityEventInsert[]): EventStatements {
  const deliveries = rows.flatMap((row) =>
    row.tenantId && row.id
      ? [
          insertWebhookDeliveries(db, t, {
            ...row,
            id: row.id,
            tenantId: row.tenantId,
            createdAt: row.createdAt,
          }),
        ]
      : [],
  );
  return [insert, ...deliveries];
}

/** Inserts one event row only when `where` finds a row of `from` (the change it records happened). */
export function insertSecurityEventIf(
  db: Db,
  t: Schema,
  row: SecurityEventInsert,
  from: SQLiteTable,
  where: SQL | undefined,
): EventStatements {
  return withDeliveries(
    db,
    t,
    db.insert(t.securityEvents).select(rowWhere(t.securityEvents, row, from, where)),
    [row],
  );
}

/** Inserts one event row on its user, or nothing when that user does not exist (same statement, same work). */
export function insertSecurityEventForUser(
  db: Db,
  t: Schema,
  row: SecurityEventInsert & { userId: string },
): EventStatements {
  return insertSecurityEventIf(db, t, row, t.users, eq(t.users.id, row.userId));
}

/** Inserts event rows (alone, or in a batch with the change they record), and their webhook deliveries. */
export function insertSecurityEvents(db: Db, t: Schema, rows: SecurityEventInsert[]): EventStatements {
  return withDeliveries(db, t, db.insert(t.securityEvents).values(rows), rows);
}

/**
 * One feed's events, newest first: a user's own (`userId`) or a tenant's (`tenantId`), of one
 * type or all, with ids below `before` (the last id of the previous page), at most `limit`.
 */
export function listSecurityEvents(
  { db, t }: Database,
  feed: { userId: string } | { tenantId: string },
  q: { type?: string | undefined; before?: string | undefined; limit: number },
) {
  const e = t.securityEvents;
  const owner = "userId" in feed ? eq(e.userId, feed.userId) : eq(e.tenantId, feed.tenantId);
  return db
    .select(securityEventProjection(t))
    .from(e)
    .where(and(owner, q.type ? eq(e.type, q.type) : undefined, q.before ? lt(e.id, q.before) : undefined))
    .orderBy(desc(e.id))
    .limit(q.limit);
}

/**
 * Usage: counters and the Idempotency-Keys that guard their increments. One counter row per
 * (user, scope, feature, UTC day), incremented in the database (`total = total + excluded.total`),
 * never read-modify-write, so N concurrent increments of q add exactly N·q on every backend.
 */
import { and, eq, gte, lte, type SQL, sql } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { uuidv7 } from "uuidv7";
import type { Database, Db, Schema } from "../../db/database";
import { excluded, isMember, rowWhere, scopeIdOf } from "../tenant-data/sql";
import {
  type SessionOfToken,
  type SessionRow,
  type SessionSighting,
  sessionProjection,
  sightingOf,
} from "./sessions";

/** A write's result: the counter's new total, and what it saw of a folded session (else null). */
export interface Added {
  total: number;
  sighting: SessionSighting | null;
}

/** The guard of a write without a tenant: none, or the presented session (folded check). */
const sessionGuard = (t: Schema, i: Increment) =>
  i.session ? { from: t.userSessions, where: i.session.live } : null;

/** A counter as answers show it: the day's total of one feature in one scope. */
export interface CounterRow {
  feature: string;
  tenantId: string | null;
  /** UTC day, `YYYY-MM-DD`. */
  periodStart: string;
  total: number;
}

export function counterView(c: CounterRow) {
  return {
    feature: c.feature,
    tenantId: c.tenantId,
    period: "day" as const,
    periodStart: c.periodStart,
    total: c.total,
  };
}

export interface Increment {
  /** The user, or (folded session check) the user of the presented session, read in the statement. */
  userId: string | SQL;
  tenantId: string | null;
  /** The session's assurance level: a tenant with `requireMfa` admits aal 2 only. */
  aal: number | SQL;
  /**
   * A folded session check (routes/usage.ts): the presented session, looked up in the write
   * itself, which then writes nothing without a live session and reads back its sighting.
   */
  session?: SessionOfToken;
  feature: string;
  /** UTC day, `YYYY-MM-DD`. */
  periodStart: string;
  quantity: number;
  now: Date;
}

function counterUpsert(
  db: Db,
  t: Schema,
  i: Increment,
  guard: { from: SQLiteTable; where: SQL | undefined } | null,
) {
  const u = t.usageCounters;
  const row = {
    userId: i.userId,
    tenantId: i.tenantId,
    scopeId: scopeIdOf(i.tenantId),
    feature: i.feature,
    periodStart: i.periodStart,
    total: i.quantity,
    updatedAt: i.now,
  };
  const insert = db.insert(u);
  return (guard ? insert.select(rowWhere(u, row, guard.from, guard.where)) : insert.values(row))
    .onConflictDoUpdate({
      target: [u.userId, u.scopeId, u.feature, u.periodStart],
      set: { total: sql`${u.total} + ${excluded(u.total)}`, updatedAt: excluded(u.updatedAt) },
    })
    .returning({ total: u.total, ...sightingColumns(i) });
}

/** The sighting columns of a folded session check, read back by the write (nulls without one). */
function sightingColumns(i: Increment) {
  return (
    i.session?.sighting ?? {
      sessionId: sql<null>`null`,
      lastSeenAt: sql<null>`null`,
      absoluteExpiresAt: sql<null>`null`,
    }
  );
}

/**
 * Adds `quantity` in ONE statement. In a tenant scope the row is produced by
 * `INSERT … SELECT … FROM tenant_memberships WHERE member`, so the membership check and the
 * write cannot be separated. Returns the new total, or null when the caller is not a member
 * (nothing written).
 */
export async function incrementUsage(database: Database, i: Increment): Promise<Added | null> {
  const { db, t } = database;
  const guard = i.tenantId
    ? { from: t.tenantMemberships, where: isMember(t, i.tenantId, i.userId, i.aal) }
    : sessionGuard(t, i);
  const [row] = await counterUpsert(db, t, i, guard);
  return row ? { total: Number(row.total), sighting: sightingOf(row) } : null;
}

/**
 * Adds `quantity` once per (user, Idempotency-Key), in one atomic batch of three statements:
 *
 * 1. claim: insert the key holding a private claim marker; on conflict take it over only when
 *    it has expired (else nothing happens). In a tenant scope the insert selects from the
 *    membership row, so non-members claim nothing.
 * 2. increment: the counter upsert, selecting its row from "the key holds MY marker".
 * 3. store: replace the marker by the new total, as JSON. `CAST(CAST(total AS TEXT) AS jsonb)`
 *    is valid in both dialects: jsonb on Postgres; on SQLite the unknown type name gives NUMERIC
 *    affinity, so an integer lands in the TEXT column and reads back as that JSON number.
 *
 * Statements cannot see JS results inside a batch, so the marker carries the dependency in SQL.
 * Because the batch is one transaction (Postgres) or one serialized batch (SQLite), nobody ever
 * observes a claimed key without its stored total: a concurrent duplicate either blocks on the
 * claim (Postgres) or runs wholly before or after (SQLite), and then finds the final answer.
 *
 * Returns the new total when this request counted, null when the key was live already (or the
 * caller is not a member of the tenant): the caller then replays the stored answer.
 */
export async function incrementOnce(
  database: Database,
  i: Increment,
  key: string,
  requestHash: string,
  /** How long the key answers with its first result (config.usageIdempotencyTtlMs); then it may be reclaimed. */
  ttlMs: number,
): Promise<Added | null> {
  const { t } = database;
  const k = t.usageIdempotencyKeys;
  const u = t.usageCounters;
  const marker = { claim: uuidv7() };
  const keyRow = {
    userId: i.userId,
    key,
    requestHash,
    response: marker,
    createdAt: i.now,
    expiresAt: new Date(i.now.getTime() + ttlMs),
  };
  const ours = and(eq(k.userId, i.userId), eq(k.key, key), eq(k.response, marker));
  const counterKey = and(
    eq(u.userId, i.userId),
    eq(u.scopeId, scopeIdOf(i.tenantId)),
    eq(u.feature, i.feature),
    eq(u.periodStart, i.periodStart),
  );
  const [claimed, , stored] = await database.atomic((db) => {
    const insert = db.insert(k);
    const guard = i.tenantId
      ? { from: t.tenantMemberships, where: isMember(t, i.tenantId, i.userId, i.aal) }
      : sessionGuard(t, i);
    const claim = guard
      ? insert.select(rowWhere(k, keyRow, guard.from, guard.where))
      : insert.values(keyRow as typeof keyRow & { userId: string });
    return [
      claim
        .onConflictDoUpdate({
          target: [k.userId, k.key],
          set: {
            requestHash: excluded(k.requestHash),
            response: excluded(k.response),
            createdAt: excluded(k.createdAt),
            expiresAt: excluded(k.expiresAt),
          },
          setWhere: lte(k.expiresAt, i.now),
        })
        .returning({ userId: k.userId, ...sightingColumns(i) }),
      counterUpsert(db, t, i, { from: k, where: ours }),
      db
        .update(k)
        .set({
          response: sql`(select cast(cast(${u.total} as text) as jsonb) from ${u} where ${counterKey})`,
        })
        .where(ours)
        .returning({ response: k.response }),
    ] as const;
  });
  const [row] = stored;
  const [claim] = claimed;
  return row && claim ? { total: Number(row.response), sighting: sightingOf(claim) } : null;
}

const idempotencyKeyProjection = (t: Schema) => ({
  requestHash: t.usageIdempotencyKeys.requestHash,
  response: t.usageIdempotencyKeys.response,
  createdAt: t.usageIdempotencyKeys.createdAt,
  expiresAt: t.usageIdempotencyKeys.expiresAt,
});

export interface StoredKey {
  requestHash: string;
  /** The total answered (a number) once stored; the claim marker (an object) before. */
  response: unknown;
  createdAt: Date;
  expiresAt: Date;
}

/** The caller's idempotency key row, if any. */
export async function findIdempotencyKey(
  { db, t }: Database,
  userId: string,
  key: string,
): Promise<StoredKey | null> {
  const k = t.usageIdempotencyKeys;
  const [row] = await db
    .select(idempotencyKeyProjection(t))
    .from(k)
    .where(and(eq(k.userId, userId), eq(k.key, key)))
    .limit(1);
  return row ?? null;
}

/**
 * The caller's key row read WITH the presented session (a folded session check, one
 * statement): the live session (null: none, 401) and the key row of its user (null: none).
 */
export async function findIdempotencyKeyBySession(
  { db, t }: Database,
  session: SessionOfToken,
  key: string,
): Promise<{ session: SessionRow; key: StoredKey | null } | null> {
  const s = t.userSessions;
  const k = t.usageIdempotencyKeys;
  const [row] = await db
    .select({ session: sessionProjection(t), ...idempotencyKeyProjection(t) })
    .from(s)
    .leftJoin(k, and(eq(k.userId, s.userId), eq(k.key, key)))
    .where(session.live)
    .limit(1);
  if (!row) return null;
  const { session: found, ...stored } = row;
  return {
    session: found,
    key: stored.requestHash === null ? null : (stored as StoredKey),
  };
}

/**
 * Daily totals in [from, to] (UTC days) in the global scope (`tenantId` null) or a tenant's, for
 * one user (`userId` set) or every member (null), one feature or all. Postgres answers
 * `sum(bigint)` as numeric, which the driver returns as a string: mapped to numbers here (exact
 * up to 2^53).
 */
export async function sumDailyTotals(
  { db, t }: Database,
  q: {
    tenantId: string | null;
    userId: string | null;
    feature?: string | undefined;
    from: string;
    to: string;
  },
): Promise<Map<string, number>> {
  const u = t.usageCounters;
  const rows = await db
    .select({ periodStart: u.periodStart, total: sql<string | number>`sum(${u.total})` })
    .from(u)
    .where(
      and(
        eq(u.scopeId, scopeIdOf(q.tenantId)),
        q.userId ? eq(u.userId, q.userId) : undefined,
        q.feature ? eq(u.feature, q.feature) : undefined,
        gte(u.periodStart, q.from),
        lte(u.periodStart, q.to),
      ),
    )
    .groupBy(u.periodStart);
  return new Map(rows.map((r) => [String(r.periodStart), Number(r.total)]));
}

/**
 * Daily totals in [from, to] of one member of `tenantId` (as sumDailyTotals), or null when
 * `userId` is not a member. ONE statement: the counters are left-joined to the membership, so
 * no membership means no row, and a member without usage is one row of nulls.
 */
export async function sumMemberDailyTotals(
  { db, t }: Database,
  q: { tenantId: string; userId: string; feature?: string | undefined; from: string; to: string },
): Promise<Map<string, number> | null> {
  const m = t.tenantMemberships;
  const u = t.usageCounters;
  const rows = await db
    .select({ periodStart: u.periodStart, total: sql<string | number | null>`sum(${u.total})` })
    .from(m)
    .leftJoin(
      u,
      and(
        eq(u.userId, m.userId),
        eq(u.scopeId, scopeIdOf(q.tenantId)),
        q.feature ? eq(u.feature, q.feature) : undefined,
        gte(u.periodStart, q.from),
        lte(u.periodStart, q.to),
      ),
    )
    .where(and(eq(m.tenantId, q.tenantId), eq(m.userId, q.userId)))
    .groupBy(u.periodStart);
  if (rows.length === 0) return null;
  return new Map(
    rows.filter((r) => r.periodStart !== null).map((r) => [String(r.periodStart), Number(r.total)]),
  );
}

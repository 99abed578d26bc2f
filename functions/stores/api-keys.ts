/**
 * Tenant API keys: only the SHA-256 of a key is stored (like session tokens, a key carries 256
 * random bits, so an unsalted fast hash is enough). Revoking sets `revoked_at`; the row stays.
 */
import { and, asc, eq, isNull, lte, or } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";
import type { KeyState } from "../context";

export type ApiKeyInsert = Schema["apiKeys"]["$inferInsert"];

/** The columns of a key that answers show (never its hash). */
const apiKeyProjection = (t: Schema) => ({
  id: t.apiKeys.id,
  name: t.apiKeys.name,
  scopes: t.apiKeys.scopes,
  prefix: t.apiKeys.prefix,
  createdAt: t.apiKeys.createdAt,
  lastUsedAt: t.apiKeys.lastUsedAt,
});

export type ApiKeyRow = Pick<Schema["apiKeys"]["$inferSelect"], keyof ReturnType<typeof apiKeyProjection>>;

export function apiKeyView(r: ApiKeyRow) {
  return {
    id: r.id,
    name: r.name,
    scopes: r.scopes as string[],
    prefix: r.prefix,
    createdAt: r.createdAt.toISOString(),
    lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
  };
}

/** Insert of a new key (for a batch with its security event). */
export function insertApiKey(db: Db, t: Schema, row: ApiKeyInsert): Query {
  return db.insert(t.apiKeys).values(row);
}

/** The tenant's keys that are not revoked, oldest first. */
export function listApiKeys({ db, t }: Database, tenantId: string): Promise<ApiKeyRow[]> {
  const k = t.apiKeys;
  return db
    .select(apiKeyProjection(t))
    .from(k)
    .where(and(eq(k.tenantId, tenantId), isNull(k.revokedAt)))
    .orderBy(asc(k.id));
}

/** Revokes the tenant's live key `id` (for a batch); returns its id when this statement revoked it. */
export function revokeApiKey(db: Db, t: Schema, tenantId: string, id: string, now: Date) {
  const k = t.apiKeys;
  return db
    .update(k)
    .set({ revokedAt: now })
    .where(and(eq(k.id, id), eq(k.tenantId, tenantId), isNull(k.revokedAt)))
    .returning({ id: k.id });
}

/**
 * "Key `id` of `tenantId` was revoked at `now`": the condition under which the revocation's
 * event is written in the same batch (a second, losing revoke finds no such row).
 */
export function keyRevokedAt(t: Schema, tenantId: string, id: string, now: Date) {
  const k = t.apiKeys;
  return and(eq(k.id, id), eq(k.tenantId, tenantId), eq(k.revokedAt, now));
}

/**
 * The live key with this hash, in ONE statement: not revoked, and its tenant not deleted (a
 * deleted tenant's keys stop working with it). Null when there is none.
 */
export async function findLiveApiKey(
  { db, t }: Database,
  keyHash: string,
): Promise<(KeyState & { lastUsedAt: Date | null }) | null> {
  const k = t.apiKeys;
  const a = t.tenantAccounts;
  const [row] = await db
    .select({ id: k.id, tenantId: k.tenantId, scopes: k.scopes, lastUsedAt: k.lastUsedAt })
    .from(k)
    .innerJoin(a, eq(a.id, k.tenantId))
    .where(and(eq(k.keyHash, keyHash), isNull(k.revokedAt), isNull(a.deletedAt)))
    .limit(1);
  return row ? { ...row, scopes: row.scopes as string[] } : null;
}

/**
 * Sets `last_used_at` to `now` unless it was set within `intervalMs`: the condition is in the
 * UPDATE, so racing requests write it once per interval.
 */
export async function touchApiKey({ db, t }: Database, id: string, now: Date, intervalMs: number) {
  const k = t.apiKeys;
  await db
    .update(k)
    .set({ lastUsedAt: now })
    .where(
      and(eq(k.id, id), or(isNull(k.lastUsedAt), lte(k.lastUsedAt, new Date(now.getTime() - intervalMs)))),
    );
}

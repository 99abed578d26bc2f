/** Tenants and their memberships. */
import { and, eq } from "drizzle-orm";
import type { Database } from "../../db/database";

export type TenantRole = "owner" | "admin" | "member";

/** The role of `userId` in `tenantId`, or null when not a member (or no such tenant). */
export async function findMemberRole({ db, t }: Database, tenantId: string, userId: string): Promise<TenantRole | null> {
  const m = t.tenantMemberships;
  const [row] = await db
    .select({ role: m.role })
    .from(m)
    .where(and(eq(m.tenantId, tenantId), eq(m.userId, userId)))
    .limit(1);
  return row?.role ?? null;
}

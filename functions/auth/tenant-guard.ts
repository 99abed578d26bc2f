/**
 * The membership guard for tenant-scoped requests. A caller who is not a member and a tenant
 * that does not exist get the same 403 `forbidden`, so tenant ids cannot be probed.
 */
import { and, eq } from "drizzle-orm";
import type { AppContext } from "../context";
import { ApiError } from "../http/problems";

export type TenantRole = "owner" | "admin" | "member";

/** Roles that may manage members and read tenant-wide data. */
export const MANAGER_ROLES: readonly TenantRole[] = ["owner", "admin"];

/**
 * Checks that the caller is a member of `tenantId` (with one of `roles`, when given), marks the
 * request as scoped to that tenant (security events carry it) and returns the caller's role.
 */
export async function requireTenantRole(
  c: AppContext,
  tenantId: string,
  roles?: readonly TenantRole[],
): Promise<TenantRole> {
  const { db, t } = c.var.db;
  const m = t.tenantMemberships;
  const [row] = await db
    .select({ role: m.role })
    .from(m)
    .where(and(eq(m.tenantId, tenantId), eq(m.userId, c.var.auth.userId)))
    .limit(1);
  if (!row || (roles && !roles.includes(row.role))) throw new ApiError("forbidden");
  c.set("tenantId", tenantId);
  return row.role;
}

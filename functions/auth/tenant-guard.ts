/**
 * The membership guard for tenant-scoped requests. A caller who is not a member and a tenant
 * that does not exist get the same 403 `forbidden`, so tenant ids cannot be probed. The guard
 * only answers; the caller passes the tenant id on explicitly (to events, stores).
 */
import type { AuthedScope } from "../context";
import { ApiError } from "../http/problems";
import { findMemberRole, type TenantRole } from "../stores/tenants";

export type { TenantRole };

/** Roles that may manage members and read tenant-wide data. */
export const MANAGER_ROLES: readonly TenantRole[] = ["owner", "admin"];

/** The caller's role in `tenantId` (one of `roles`, when given); 403 otherwise. */
export async function requireTenantRole(
  scope: AuthedScope,
  tenantId: string,
  roles?: readonly TenantRole[],
): Promise<TenantRole> {
  const role = await findMemberRole(scope.db, tenantId, scope.auth.userId);
  if (!role || (roles && !roles.includes(role))) throw new ApiError("forbidden");
  return role;
}

/**
 * The membership guard for tenant-scoped requests. A caller who is not a member and a tenant
 * that does not exist (or was deleted) get the same 403 `forbidden`, so tenant ids cannot be
 * probed. A member of a tenant with `requireMfa` whose session is below aal 2 gets 403
 * `tenant_mfa_required`, for reads and writes alike. One statement. The guard only answers; the
 * caller passes the tenant id on explicitly (to events, stores).
 */
import type { AuthedScope } from "../context";
import { ApiError } from "../http/problems";
import { findMembership, type TenantRole } from "../stores/tenants";

export type { TenantRole };

/** The refusals of every tenant-scoped route, for its spec's `errors`. */
export const TENANT_ERRORS = ["forbidden", "tenant_mfa_required"] as const;

/** Roles that may manage members and read tenant-wide data. */
export const MANAGER_ROLES: readonly TenantRole[] = ["owner", "admin"];

/**
 * The caller's role in `tenantId` (one of `roles`, when given): 403 `forbidden` for a
 * non-member, an unknown or deleted tenant, or another role; 403 `tenant_mfa_required` for a
 * member below aal 2 in a tenant that requires MFA.
 */
export async function requireTenantRole(
  scope: AuthedScope,
  tenantId: string,
  roles?: readonly TenantRole[],
): Promise<TenantRole> {
  return admitTenantRole(scope, await findMembership(scope.db, tenantId, scope.auth.userId), roles);
}

/** requireTenantRole's answer for a membership the caller read itself (with what else it needed). */
export function admitTenantRole(
  scope: AuthedScope,
  membership: { role: TenantRole; requireMfa: boolean } | null,
  roles?: readonly TenantRole[],
): TenantRole {
  if (!membership) throw new ApiError("forbidden");
  if (membership.requireMfa && scope.auth.aal < 2) {
    throw new ApiError("tenant_mfa_required", "Verify a second factor to work in this tenant.");
  }
  if (roles && !roles.includes(membership.role)) throw new ApiError("forbidden");
  return membership.role;
}

/**
 * The refusal for a tenant-scoped write whose statement found no admitting membership (see
 * `isMember`): 403 `tenant_mfa_required` when that is why, 403 `forbidden` otherwise. Only the
 * failure path pays this second statement.
 */
export async function refuseTenantWrite(scope: AuthedScope, tenantId: string): Promise<never> {
  await requireTenantRole(scope, tenantId);
  // Admitted now, though the write was not: membership changed in between. Still a refusal.
  throw new ApiError("forbidden");
}

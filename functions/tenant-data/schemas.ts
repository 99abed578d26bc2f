/**
 * Request fields shared by the tenant-data routes, the scope they name, and the field-error
 * helper for checks zod cannot make alone.
 */
import { requireTenantRole } from "../auth/tenant-guard";
import type { AuthedScope } from "../context";
import { ApiError } from "../http/problems";
import { Uuid } from "../http/schemas";
import * as z from "../http/zod";

/** Policy, category and feature names: `[a-z0-9_.-]{1,64}`. */
export const Slug = z
  .string()
  .regex(/^[a-z0-9_.-]{1,64}$/, { message: "must be 1-64 characters of a-z, 0-9, '_', '.', '-'" });

/** An optional tenant id: present makes the request tenant-scoped (membership checked). */
export const OptionalTenantId = Uuid.optional().openapi({
  description: "Tenant scope; omitted for the global (no tenant) scope. Requires membership (else 403).",
});

/** `?tenantId=` alone. */
export const TenantScopeQuery = z.object({ tenantId: OptionalTenantId });

/**
 * The scope an `OptionalTenantId` names: the tenant id once the caller's membership is checked
 * (403 otherwise), or null for the global scope.
 */
export async function memberScope(scope: AuthedScope, tenantId: string | undefined): Promise<string | null> {
  if (!tenantId) return null;
  await requireTenantRole(scope, tenantId);
  return tenantId;
}

/** 400 `invalid_request` for one field, for checks that depend on the request (time, other fields). */
export function invalidField(where: "body" | "query" | "header", path: string, message: string): ApiError {
  return new ApiError("invalid_request", `The ${where} is not valid.`, { errors: [{ path, message }] });
}

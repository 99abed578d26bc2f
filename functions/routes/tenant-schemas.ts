/** Response schemas for a tenant and a membership in one, shared by the routes that show them. */
import * as z from "../http/zod";

export const Role = z.enum(["owner", "admin", "member"]);

export const TenantSchema = z
  .object({ id: z.string(), name: z.string(), createdAt: z.string(), requireMfa: z.boolean() })
  .openapi("Tenant");

/** A tenant the caller belongs to, with the caller's role in it. */
export const TenantMembershipSchema = z.object({ tenant: TenantSchema, role: Role });

/** Tenants and memberships: create, list, add and remove members (owner/admin only). */
import { z } from "@hono/zod-openapi";
import { uuidv7 } from "uuidv7";
import { Email } from "../auth/schemas";
import { MANAGER_ROLES, requireTenantRole } from "../auth/tenant-guard";
import { requireVerifiedEmail } from "../auth/verification";
import { ApiError } from "../http/problems";
import { json, noContent } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse, Uuid } from "../http/schemas";
import { recordSecurityEvent } from "../security-events";
import {
  deleteMembership,
  findMemberRole,
  insertMemberByEmail,
  insertMembership,
  insertTenant,
  listMemberships,
  tenantView,
} from "../stores/tenants";

const Role = z.enum(["owner", "admin", "member"]);
const TenantSchema = z
  .object({ id: z.string(), name: z.string(), createdAt: z.string(), requireMfa: z.boolean() })
  .openapi("Tenant");

const createTenant = defineRoute(
  {
    method: "post",
    path: "/",
    tags: ["tenants"],
    summary: "Create a tenant; the caller becomes its owner",
    security: [{ bearer: [] }],
    request: jsonRequest(z.object({ name: z.string().trim().min(1).max(100) })),
    responses: { 201: jsonResponse("Created", z.object({ tenant: TenantSchema, role: z.literal("owner") })) },
    errors: ["email_not_verified"],
  },
  async (scope, { body }) => {
    await requireVerifiedEmail(scope);
    const { t } = scope.db;
    const tenant = { id: uuidv7(), name: body.name, createdAt: scope.now, requireMfa: false };
    const owner = {
      tenantId: tenant.id,
      userId: scope.auth.userId,
      role: "owner" as const,
      createdAt: scope.now,
    };
    await scope.db.atomic((db) => [insertTenant(db, t, tenant), insertMembership(db, t, owner)]);
    return json({ tenant: tenantView(tenant), role: "owner" }, 201);
  },
);

const listTenants = defineRoute(
  {
    method: "get",
    path: "/",
    tags: ["tenants"],
    summary: "The tenants the caller belongs to, with the caller's role",
    security: [{ bearer: [] }],
    responses: {
      200: jsonResponse(
        "Tenants",
        z.object({ tenants: z.array(z.object({ tenant: TenantSchema, role: Role })) }),
      ),
    },
  },
  async (scope) => {
    const rows = await listMemberships(scope.db, scope.auth.userId);
    return json({ tenants: rows.map((r) => ({ tenant: tenantView(r), role: r.role })) });
  },
);

const addMember = defineRoute(
  {
    method: "post",
    path: "/{tenantId}/members",
    tags: ["tenants"],
    summary: "Add an existing user to the tenant (owner/admin)",
    security: [{ bearer: [] }],
    request: {
      params: z.object({ tenantId: Uuid }),
      ...jsonRequest(z.object({ email: Email, role: z.enum(["admin", "member"]) })),
    },
    responses: {
      201: jsonResponse("Added", z.object({ member: z.object({ userId: z.string(), role: Role }) })),
    },
    errors: ["forbidden", "not_found", "already_member"],
  },
  async (scope, { params: { tenantId }, body }) => {
    await requireTenantRole(scope, tenantId, MANAGER_ROLES);
    const added = await insertMemberByEmail(scope.db, {
      tenantId,
      email: body.email,
      role: body.role,
      now: scope.now,
    });
    if (added === "no_account") throw new ApiError("not_found", "No account with that email.");
    if (added === "already_member") throw new ApiError("already_member");
    await recordSecurityEvent(scope, {
      type: "tenant.member_added",
      userId: scope.auth.userId,
      tenantId,
      metadata: { memberUserId: added.userId, role: body.role },
    });
    return json({ member: { userId: added.userId, role: body.role } }, 201);
  },
);

const removeMember = defineRoute(
  {
    method: "delete",
    path: "/{tenantId}/members/{userId}",
    tags: ["tenants"],
    summary: "Remove a member (owner/admin; an admin cannot remove an owner; the last owner stays)",
    security: [{ bearer: [] }],
    request: { params: z.object({ tenantId: Uuid, userId: Uuid }) },
    responses: { 204: { description: "Removed" } },
    errors: ["forbidden", "not_found", "last_owner"],
  },
  async (scope, { params: { tenantId, userId } }) => {
    const callerRole = await requireTenantRole(scope, tenantId, MANAGER_ROLES);
    const targetRole = await findMemberRole(scope.db, tenantId, userId);
    if (!targetRole) throw new ApiError("not_found", "Not a member.");
    if (targetRole === "owner" && callerRole !== "owner") throw new ApiError("forbidden");
    if (!(await deleteMembership(scope.db, tenantId, userId))) {
      throw new ApiError("last_owner", "A tenant keeps at least one owner.");
    }
    await recordSecurityEvent(scope, {
      type: "tenant.member_removed",
      userId: scope.auth.userId,
      tenantId,
      metadata: { memberUserId: userId },
    });
    return noContent();
  },
);

/** Tenants and memberships (mounted at /v1/tenants). */
export const tenantRoutes = routeModule(createTenant, listTenants, addMember, removeMember);

/**
 * Tenants and memberships: create, list, read, rename, set the MFA policy, delete; the member
 * list, roles and removal (rules in the contract's "Members and roles"); invitations (members
 * join by accepting one, functions/routes/invitations.ts).
 */
import { uuidv7 } from "uuidv7";
import { prepareMessage } from "../auth/mail";
import { Email } from "../auth/schemas";
import { requireRecentAuthentication, STEP_UP_ERRORS, stepUpFields } from "../auth/step-up";
import {
  admitTenantRole,
  MANAGER_ROLES,
  requireTenantRole,
  TENANT_ERRORS,
  type TenantRole,
} from "../auth/tenant-guard";
import { requireVerifiedEmail } from "../auth/verification";
import type { AuthedScope } from "../context";
import { ApiError } from "../http/problems";
import { json, noContent } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse, Uuid } from "../http/schemas";
import * as z from "../http/zod";
import { generateToken, sha256Hex } from "../lib/tokens";
import { recordSecurityEvent, securityEventRow } from "../security-events";
import { invitationView, listInvitations, revokeInvitation, upsertInvitation } from "../stores/invitations";
import { insertOutboxMessage } from "../stores/outbox";
import { insertSecurityEvents } from "../stores/security-events";
import {
  changeMemberRole,
  deleteMembership,
  findMemberRole,
  findMembershipForInvite,
  findMembershipWithMember,
  findTenant,
  insertMembership,
  insertTenant,
  listMembers,
  listMemberships,
  lockTenant,
  memberView,
  tenantView,
  tombstoneTenant,
  updateTenant,
} from "../stores/tenants";
import { Role, TenantMembershipSchema, TenantSchema } from "./tenant-schemas";

const InvitedRole = z.enum(["admin", "member"]);
const TenantName = z.string().trim().min(1).max(100);
const MemberSchema = z
  .object({
    userId: z.string(),
    email: z.string(),
    displayName: z.string().nullable(),
    role: Role,
    joinedAt: z.string(),
    mfaEnabled: z.boolean(),
  })
  .openapi("TenantMember");
const InvitationSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    role: InvitedRole,
    createdAt: z.string(),
    expiresAt: z.string(),
  })
  .openapi("TenantInvitation");
const OWNER: readonly TenantRole[] = ["owner"];
const TenantParams = z.object({ tenantId: Uuid });
const MemberParams = z.object({ tenantId: Uuid, userId: Uuid });

/** The live tenant the guard just admitted the caller to (deleted meanwhile: forbidden, as the guard says). */
async function admittedTenant(scope: AuthedScope, tenantId: string) {
  const tenant = await findTenant(scope.db, tenantId);
  if (!tenant) throw new ApiError("forbidden");
  return tenant;
}

const createTenant = defineRoute(
  {
    method: "post",
    path: "/",
    tags: ["tenants"],
    summary: "Create a tenant; the caller becomes its owner",
    security: [{ bearer: [] }],
    request: jsonRequest(z.object({ name: TenantName })),
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
    const event = await securityEventRow(scope, {
      type: "tenant.created",
      userId: scope.auth.userId,
      tenantId: tenant.id,
    });
    await scope.db.atomic((db) => [
      insertTenant(db, t, tenant),
      insertMembership(db, t, owner),
      ...insertSecurityEvents(db, t, [event]),
    ]);
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
      200: jsonResponse("Tenants", z.object({ tenants: z.array(TenantMembershipSchema) })),
    },
  },
  async (scope) => {
    const rows = await listMemberships(scope.db, scope.auth.userId);
    return json({ tenants: rows.map((r) => ({ tenant: tenantView(r), role: r.role })) });
  },
);

const readTenant = defineRoute(
  {
    method: "get",
    path: "/{tenantId}",
    tags: ["tenants"],
    summary: "A tenant the caller belongs to, with the caller's role",
    security: [{ bearer: [] }],
    request: { params: TenantParams },
    responses: { 200: jsonResponse("Tenant", z.object({ tenant: TenantSchema, role: Role })) },
    errors: [...TENANT_ERRORS],
  },
  async (scope, { params: { tenantId } }) => {
    const role = await requireTenantRole(scope, tenantId);
    return json({ tenant: tenantView(await admittedTenant(scope, tenantId)), role });
  },
);

const updateTenantRoute = defineRoute(
  {
    method: "patch",
    path: "/{tenantId}",
    tags: ["tenants"],
    summary: "Rename the tenant (owner/admin) or set its MFA requirement (owner, from an aal-2 session)",
    security: [{ bearer: [] }],
    request: {
      params: TenantParams,
      ...jsonRequest(
        z
          .object({ name: TenantName.optional(), requireMfa: z.boolean().optional() })
          .refine((b) => b.name !== undefined || b.requireMfa !== undefined, {
            message: "name or requireMfa is required",
          }),
      ),
    },
    responses: { 200: jsonResponse("Updated", z.object({ tenant: TenantSchema })) },
    errors: [...TENANT_ERRORS, "aal2_required"],
  },
  async (scope, { params: { tenantId }, body }) => {
    const settingMfa = body.requireMfa !== undefined;
    await requireTenantRole(scope, tenantId, settingMfa ? OWNER : MANAGER_ROLES);
    // Whoever sets the policy has proven a second factor, so cannot lock themselves out by it.
    if (settingMfa && scope.auth.aal < 2) {
      throw new ApiError("aal2_required", "Verify a second factor to change the tenant's MFA policy.");
    }
    const before = await admittedTenant(scope, tenantId);
    const changed = [
      ...(body.name !== undefined && body.name !== before.name ? ["name"] : []),
      ...(settingMfa && body.requireMfa !== before.requireMfa ? ["requireMfa"] : []),
    ];
    if (changed.length === 0) return json({ tenant: tenantView(before) });
    const { t } = scope.db;
    const event = await securityEventRow(scope, {
      type: "tenant.updated",
      userId: scope.auth.userId,
      tenantId,
      metadata: {
        changed: changed.join(","),
        ...(changed.includes("requireMfa") ? { requireMfa: Boolean(body.requireMfa) } : {}),
      },
    });
    const [[tenant]] = await scope.db.atomic((db) => [
      updateTenant(db, t, tenantId, body),
      ...insertSecurityEvents(db, t, [event]),
    ]);
    if (!tenant) throw new ApiError("forbidden");
    return json({ tenant: tenantView(tenant) });
  },
);

const deleteTenant = defineRoute(
  {
    method: "delete",
    path: "/{tenantId}",
    tags: ["tenants"],
    summary: "Delete the tenant (owner; step-up): it answers 403 to everyone afterwards",
    security: [{ bearer: [] }],
    request: { params: TenantParams, ...jsonRequest(z.object(stepUpFields), false) },
    responses: { 204: { description: "Deleted" } },
    errors: [...TENANT_ERRORS, ...STEP_UP_ERRORS],
  },
  async (scope, { params: { tenantId }, body }) => {
    await requireTenantRole(scope, tenantId, OWNER);
    await requireRecentAuthentication(scope, body?.currentPassword, tenantId);
    const { t } = scope.db;
    const event = await securityEventRow(scope, {
      type: "tenant.deleted",
      userId: scope.auth.userId,
      tenantId,
    });
    await scope.db.atomic((db) => [
      lockTenant(db, t, tenantId),
      ...tombstoneTenant(db, t, tenantId, scope.now),
      ...insertSecurityEvents(db, t, [event]),
    ]);
    return noContent();
  },
);

const listMembersRoute = defineRoute(
  {
    method: "get",
    path: "/{tenantId}/members",
    tags: ["tenants"],
    summary: "The tenant's members, with whether each has MFA (owner/admin)",
    security: [{ bearer: [] }],
    request: { params: TenantParams },
    responses: { 200: jsonResponse("Members", z.object({ members: z.array(MemberSchema) })) },
    errors: [...TENANT_ERRORS],
  },
  async (scope, { params: { tenantId } }) => {
    await requireTenantRole(scope, tenantId, MANAGER_ROLES);
    return json({ members: (await listMembers(scope.db, tenantId)).map(memberView) });
  },
);

/** 403 forbidden when a caller of `callerRole` may not touch a member of `targetRole` (only owners touch owners). */
function requireAuthorityOver(callerRole: TenantRole, targetRole: TenantRole): void {
  if (targetRole === "owner" && callerRole !== "owner") throw new ApiError("forbidden");
}

const changeRole = defineRoute(
  {
    method: "patch",
    path: "/{tenantId}/members/{userId}",
    tags: ["tenants"],
    summary: "Change a member's role (owner/admin; only owners grant or take away owner; an owner stays)",
    security: [{ bearer: [] }],
    request: { params: MemberParams, ...jsonRequest(z.object({ role: Role })) },
    responses: {
      200: jsonResponse("Changed", z.object({ member: z.object({ userId: z.string(), role: Role }) })),
    },
    errors: [...TENANT_ERRORS, "not_found", "last_owner"],
  },
  async (scope, { params: { tenantId, userId }, body: { role } }) => {
    const callerRole = await requireTenantRole(scope, tenantId, MANAGER_ROLES);
    const targetRole = await findMemberRole(scope.db, tenantId, userId);
    if (!targetRole) throw new ApiError("not_found", "Not a member.");
    // forbidden wins over last_owner: checked before the change is tried.
    requireAuthorityOver(callerRole, targetRole);
    requireAuthorityOver(callerRole, role);
    if (targetRole !== role) {
      // Still a manager, and an owner when owners are concerned, at the moment of the change.
      const actorRoles = targetRole === "owner" || role === "owner" ? OWNER : MANAGER_ROLES;
      const changed = await changeMemberRole(scope.db, {
        tenantId,
        userId,
        role,
        actorId: scope.auth.userId,
        actorRoles,
      });
      if (!changed) await refuseMemberChange(scope, tenantId, userId, actorRoles);
      await recordSecurityEvent(scope, {
        type: "tenant.member_role_changed",
        userId,
        tenantId,
        metadata: { memberUserId: userId, from: targetRole, role },
      });
    }
    return json({ member: { userId, role } });
  },
);

/**
 * Why a role change or removal found nothing to do: the caller is no longer a member or lost
 * the role it needs (403; a concurrent change got there first), the member is gone (404), or
 * the tenant would be left without an owner (409).
 */
async function refuseMemberChange(
  scope: AuthedScope,
  tenantId: string,
  userId: string,
  callerRoles?: readonly TenantRole[],
): Promise<never> {
  await requireTenantRole(scope, tenantId, callerRoles);
  if (!(await findMemberRole(scope.db, tenantId, userId))) throw new ApiError("not_found", "Not a member.");
  throw new ApiError("last_owner", "A tenant keeps at least one owner.");
}

const removeMember = defineRoute(
  {
    method: "delete",
    path: "/{tenantId}/members/{userId}",
    tags: ["tenants"],
    summary: "Remove a member (owner/admin), or leave (any member); an owner stays",
    security: [{ bearer: [] }],
    request: { params: MemberParams },
    responses: { 204: { description: "Removed" } },
    errors: [...TENANT_ERRORS, "not_found", "last_owner"],
  },
  async (scope, { params: { tenantId, userId } }) => {
    const leaving = userId === scope.auth.userId;
    // The caller's membership with the member's role: one statement.
    const found = await findMembershipWithMember(scope.db, tenantId, scope.auth.userId, userId);
    const callerRole = admitTenantRole(scope, found, leaving ? undefined : MANAGER_ROLES);
    if (!leaving) {
      const targetRole = found?.memberRole ?? null;
      if (!targetRole) throw new ApiError("not_found", "Not a member.");
      requireAuthorityOver(callerRole, targetRole);
    }
    const event = await securityEventRow(scope, {
      type: "tenant.member_removed",
      userId,
      tenantId,
      metadata: { memberUserId: userId, left: leaving },
    });
    // The removal and its event in one batch.
    if (!(await deleteMembership(scope.db, tenantId, userId, [event]))) {
      await refuseMemberChange(scope, tenantId, userId);
    }
    return noContent();
  },
);

const invite = defineRoute(
  {
    method: "post",
    path: "/{tenantId}/invitations",
    tags: ["tenants"],
    summary: "Invite an address (owner/admin); the same answer whether or not it has an account",
    security: [{ bearer: [] }],
    request: { params: TenantParams, ...jsonRequest(z.object({ email: Email, role: InvitedRole })) },
    responses: { 201: jsonResponse("Invited", z.object({ invitation: InvitationSchema })) },
    errors: [...TENANT_ERRORS, "already_member"],
  },
  async (scope, { params: { tenantId }, body }) => {
    // The caller's membership, the tenant and whether the address is a member's: one statement.
    const found = await findMembershipForInvite(scope.db, tenantId, scope.auth.userId, body.email);
    admitTenantRole(scope, found, MANAGER_ROLES);
    const { tenant, emailIsMember } = found!;
    // Tells only the tenant's managers what the member list shows them anyway. Whether the
    // address has an account is never looked up: invitation, message and answer are the same.
    if (emailIsMember) throw new ApiError("already_member");
    const token = generateToken();
    const row = {
      id: uuidv7(),
      tenantId,
      email: body.email,
      role: body.role,
      tokenHash: await sha256Hex(token),
      invitedBy: scope.auth.userId,
      createdAt: scope.now,
      expiresAt: new Date(scope.now.getTime() + scope.config.invitationTtlMs),
    };
    const message = await prepareMessage(
      scope,
      "tenant_invitation",
      { token, tenantName: tenant.name, role: body.role },
      null,
    );
    const { t } = scope.db;
    const event = await securityEventRow(scope, {
      type: "tenant.invitation_created",
      userId: scope.auth.userId,
      tenantId,
      metadata: { invitationId: row.id, role: body.role },
    });
    const invitation = await upsertInvitation(scope.db, row, (db) => [
      insertOutboxMessage(db, t, { ...message, recipient: body.email }),
      ...insertSecurityEvents(db, t, [event]),
    ]);
    return json({ invitation: invitationView(invitation) }, 201);
  },
);

const listInvitationsRoute = defineRoute(
  {
    method: "get",
    path: "/{tenantId}/invitations",
    tags: ["tenants"],
    summary: "The tenant's pending invitations (owner/admin)",
    security: [{ bearer: [] }],
    request: { params: TenantParams },
    responses: { 200: jsonResponse("Invitations", z.object({ invitations: z.array(InvitationSchema) })) },
    errors: [...TENANT_ERRORS],
  },
  async (scope, { params: { tenantId } }) => {
    await requireTenantRole(scope, tenantId, MANAGER_ROLES);
    const invitations = await listInvitations(scope.db, tenantId, scope.now);
    return json({ invitations: invitations.map(invitationView) });
  },
);

const revoke = defineRoute(
  {
    method: "delete",
    path: "/{tenantId}/invitations/{invitationId}",
    tags: ["tenants"],
    summary: "Revoke a pending invitation (owner/admin); its token stops working",
    security: [{ bearer: [] }],
    request: { params: z.object({ tenantId: Uuid, invitationId: Uuid }) },
    responses: { 204: { description: "Revoked" } },
    errors: [...TENANT_ERRORS, "not_found"],
  },
  async (scope, { params: { tenantId, invitationId } }) => {
    await requireTenantRole(scope, tenantId, MANAGER_ROLES);
    const event = await securityEventRow(scope, {
      type: "tenant.invitation_revoked",
      userId: scope.auth.userId,
      tenantId,
      metadata: { invitationId },
    });
    if (!(await revokeInvitation(scope.db, tenantId, invitationId, event))) {
      throw new ApiError("not_found", "No such invitation.");
    }
    return noContent();
  },
);

/** Tenants, memberships and invitations (mounted at /v1/tenants). */
export const tenantRoutes = routeModule(
  createTenant,
  listTenants,
  readTenant,
  updateTenantRoute,
  deleteTenant,
  listMembersRoute,
  changeRole,
  removeMember,
  invite,
  listInvitationsRoute,
  revoke,
);

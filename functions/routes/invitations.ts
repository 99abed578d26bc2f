/**
 * Accepting a tenant invitation: the token from the `tenant_invitation` message, by the signed-in
 * account whose verified address it was sent to. Single use: of racing accepts one wins.
 */
import { requireVerifiedEmail } from "../auth/verification";
import { ApiError } from "../http/problems";
import { json } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse } from "../http/schemas";
import * as z from "../http/zod";
import { sha256Hex } from "../lib/tokens";
import { securityEventRow } from "../security-events";
import { acceptInvitation, findLiveInvitationWithUser } from "../stores/invitations";
import { tenantView } from "../stores/tenants";
import { TenantMembershipSchema } from "./tenant-schemas";

const accept = defineRoute(
  {
    method: "post",
    path: "/accept",
    tags: ["tenants"],
    summary: "Join a tenant with an invitation sent to the caller's verified address",
    security: [{ bearer: [] }],
    request: jsonRequest(z.object({ token: z.string().min(1).max(256) })),
    responses: {
      200: jsonResponse("Joined", TenantMembershipSchema),
    },
    errors: ["email_not_verified", "forbidden", "invalid_token"],
  },
  async (scope, { body }) => {
    await requireVerifiedEmail(scope);
    const tokenHash = await sha256Hex(body.token);
    // The invitation and the caller's account: one round trip.
    const { invitation, user } = await findLiveInvitationWithUser(
      scope.db,
      tokenHash,
      scope.now,
      scope.auth.userId,
    );
    if (!invitation) throw new ApiError("invalid_token");
    if (!user) throw new ApiError("unauthorized");
    // Both addresses are stored trimmed and lower-cased. A wrong account does not spend the token.
    if (user.email !== invitation.email) {
      throw new ApiError("forbidden", "This invitation was sent to another address.");
    }
    const { tenantId } = invitation;
    const facts = { tenantId, metadata: { invitationId: invitation.id, role: invitation.role } };
    // The batch also reads back the tenant and the caller's role (one round trip).
    const { spent, tenant, role } = await acceptInvitation(scope.db, {
      tenantId,
      tokenHash,
      userId: user.id,
      now: scope.now,
      accepted: await securityEventRow(scope, {
        type: "tenant.invitation_accepted",
        userId: user.id,
        ...facts,
      }),
      memberAdded: await securityEventRow(scope, {
        type: "tenant.member_added",
        userId: user.id,
        tenantId,
        metadata: { memberUserId: user.id, role: invitation.role },
      }),
    });
    // Another accept (or a revoke, a replacement, the tenant's deletion) got there first.
    if (!spent || !tenant || !role) throw new ApiError("invalid_token");
    return json({ tenant: tenantView(tenant), role });
  },
);

/** Invitation acceptance (mounted at /v1/invitations). */
export const invitationRoutes = routeModule(accept);

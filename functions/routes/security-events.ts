/** Security event read API: the caller's own events, and a tenant's (owners and admins). */
import { MANAGER_ROLES, requireTenantRole, TENANT_ERRORS } from "../auth/tenant-guard";
import type { RequestScope } from "../context";
import { fetchPage, PageQuery } from "../http/pagination";
import { json } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonResponse, Uuid } from "../http/schemas";
import * as z from "../http/zod";
import { SECURITY_EVENT_TYPES } from "../security-events";
import { listSecurityEvents, securityEventView, tenantSecurityEventView } from "../stores/security-events";
import { SecurityEventPage, SecurityEventSchema } from "./security-event-schemas";

const TenantEventPage = z
  .object({
    events: z.array(
      SecurityEventSchema.extend({
        actorUserId: z
          .string()
          .nullable()
          .openapi({ description: "Who acted; null when nobody signed in did" }),
      }).openapi("TenantSecurityEvent"),
    ),
    nextCursor: z.string().nullable(),
  })
  .openapi("TenantSecurityEventPage");
const EventsQuery = PageQuery.extend({ type: z.enum(SECURITY_EVENT_TYPES).optional() });

/** One page of a feed's events, newest first, as answered. */
async function eventPage(
  scope: RequestScope,
  feed: { userId: string } | { tenantId: string },
  q: z.output<typeof EventsQuery>,
) {
  const { items, nextCursor } = await fetchPage(q, (window) =>
    listSecurityEvents(scope.db, feed, { type: q.type, ...window }),
  );
  const view = "tenantId" in feed ? tenantSecurityEventView : securityEventView;
  return json({ events: items.map(view), nextCursor });
}

const ownEvents = defineRoute(
  {
    method: "get",
    path: "/security-events",
    tags: ["security events"],
    summary: "The caller's security events, newest first",
    security: [{ bearer: [] }],
    request: { query: EventsQuery },
    responses: { 200: jsonResponse("Events", SecurityEventPage) },
  },
  (scope, { query }) => eventPage(scope, { userId: scope.auth.userId }, query),
);

const tenantEvents = defineRoute(
  {
    method: "get",
    path: "/tenants/{tenantId}/security-events",
    tags: ["security events"],
    summary: "A tenant's security events (owner/admin), newest first",
    security: [{ bearer: [] }],
    request: { params: z.object({ tenantId: Uuid }), query: EventsQuery },
    responses: { 200: jsonResponse("Events", TenantEventPage) },
    errors: [...TENANT_ERRORS],
  },
  async (scope, { params, query }) => {
    await requireTenantRole(scope, params.tenantId, MANAGER_ROLES);
    return eventPage(scope, { tenantId: params.tenantId }, query);
  },
);

/** Security event reads, the caller's and a tenant's (mounted at /v1). */
export const securityEventRoutes = routeModule(ownEvents, tenantEvents);

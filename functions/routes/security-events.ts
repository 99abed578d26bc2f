/** Security event read API: the caller's own events, and a tenant's (owners and admins). */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { MANAGER_ROLES, requireTenantRole } from "../auth/tenant-guard";
import type { AppContext, AppEnv } from "../context";
import { PageQuery, page } from "../http/pagination";
import { defineRoute } from "../http/route";
import { jsonResponse, problemResponses, Uuid } from "../http/schemas";
import { params, query } from "../http/validation";
import { requireAuth } from "../middleware/auth";
import { SECURITY_EVENT_TYPES } from "../security-events";

const EventSchema = z
  .object({
    id: z.string(),
    type: z.enum(SECURITY_EVENT_TYPES),
    createdAt: z.string(),
    requestId: z.string(),
    tenantId: z.string().nullable(),
    ipHash: z.string().nullable(),
    userAgentHash: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
  })
  .openapi("SecurityEvent");
const EventPage = z
  .object({ events: z.array(EventSchema), nextCursor: z.string().nullable() })
  .openapi("SecurityEventPage");
const EventsQuery = PageQuery.extend({ type: z.enum(SECURITY_EVENT_TYPES).optional() });

/** Lists events matching `scope`, newest first, one page. */
export async function listEvents(c: AppContext, scope: SQL, q: z.output<typeof EventsQuery>) {
  const { db, t } = c.var.db;
  const e = t.securityEvents;
  const rows = await db
    .select({
      id: e.id,
      type: e.type,
      createdAt: e.createdAt,
      requestId: e.requestId,
      tenantId: e.tenantId,
      ipHash: e.ipHash,
      userAgentHash: e.userAgentHash,
      metadata: e.metadata,
    })
    .from(e)
    .where(and(scope, q.type ? eq(e.type, q.type) : undefined, q.cursor ? lt(e.id, q.cursor) : undefined))
    .orderBy(desc(e.id))
    .limit(q.limit + 1);
  const { items, nextCursor } = page(rows, q.limit);
  return {
    events: items.map((r) => ({
      ...r,
      createdAt: r.createdAt.toISOString(),
      metadata: (r.metadata ?? {}) as object,
    })),
    nextCursor,
  };
}

const withOwnEvents = defineRoute(
  new OpenAPIHono<AppEnv>(),
  createRoute({
    method: "get",
    path: "/security-events",
    tags: ["security events"],
    summary: "The caller's security events, newest first",
    security: [{ bearer: [] }],
    request: { query: EventsQuery },
    responses: {
      200: jsonResponse("Events", EventPage),
      ...problemResponses("invalid_request", "unauthorized"),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const q = query(c, EventsQuery);
    return c.json(await listEvents(c, eq(c.var.db.t.securityEvents.userId, c.var.auth.userId), q));
  },
);

const TenantParams = z.object({ tenantId: Uuid });

const withTenantEvents = defineRoute(
  withOwnEvents,
  createRoute({
    method: "get",
    path: "/tenants/{tenantId}/security-events",
    tags: ["security events"],
    summary: "A tenant's security events (owner/admin), newest first",
    security: [{ bearer: [] }],
    request: { params: TenantParams, query: EventsQuery },
    responses: {
      200: jsonResponse("Events", EventPage),
      ...problemResponses("invalid_request", "unauthorized", "forbidden"),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const { tenantId } = params(c, TenantParams);
    const q = query(c, EventsQuery);
    await requireTenantRole(c, tenantId, MANAGER_ROLES);
    return c.json(await listEvents(c, eq(c.var.db.t.securityEvents.tenantId, tenantId), q));
  },
);

/**
 * Security event reads, the caller's and a tenant's (mounted at /v1).
 * Chained route by route (`with…` above), so its type carries every route for typed clients.
 */
export const securityEventRoutes = withTenantEvents;

/** Tenants and memberships: create, list, add and remove members (owner/admin only). */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, asc, count, eq, ne, or, sql } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import { Email } from "../auth/schemas";
import { MANAGER_ROLES, requireTenantRole } from "../auth/tenant-guard";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../http/problems";
import { defineRoute } from "../http/route";
import { jsonRequest, jsonResponse, problemResponses, Uuid } from "../http/schemas";
import { jsonBody, params } from "../http/validation";
import { requireAuth } from "../middleware/auth";
import { recordSecurityEvent, securityEventRow } from "../security-events";

const Role = z.enum(["owner", "admin", "member"]);
const TenantSchema = z.object({ id: z.string(), name: z.string(), createdAt: z.string() }).openapi("Tenant");
const tenantView = (t: { id: string; name: string; createdAt: Date }) => ({
  id: t.id,
  name: t.name,
  createdAt: t.createdAt.toISOString(),
});

const CreateTenantBody = z.object({ name: z.string().trim().min(1).max(100) });

const withCreate = defineRoute(
  new OpenAPIHono<AppEnv>(),
  createRoute({
    method: "post",
    path: "/",
    tags: ["tenants"],
    summary: "Create a tenant; the caller becomes its owner",
    security: [{ bearer: [] }],
    request: jsonRequest(CreateTenantBody),
    responses: {
      201: jsonResponse("Created", z.object({ tenant: TenantSchema, role: z.literal("owner") })),
      ...problemResponses("invalid_request", "unauthorized"),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const { name } = await jsonBody(c, CreateTenantBody);
    const { t } = c.var.db;
    const tenant = { id: uuidv7(), name, createdAt: c.var.now };
    await c.var.db.atomic((db) => [
      db.insert(t.tenantAccounts).values(tenant),
      db
        .insert(t.tenantMemberships)
        .values({ tenantId: tenant.id, userId: c.var.auth.userId, role: "owner", createdAt: c.var.now }),
    ]);
    return c.json({ tenant: tenantView(tenant), role: "owner" as const }, 201);
  },
);

const withList = defineRoute(
  withCreate,
  createRoute({
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
      ...problemResponses("unauthorized"),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const { db, t } = c.var.db;
    const a = t.tenantAccounts;
    const m = t.tenantMemberships;
    const rows = await db
      .select({ id: a.id, name: a.name, createdAt: a.createdAt, role: m.role })
      .from(m)
      .innerJoin(a, eq(a.id, m.tenantId))
      .where(eq(m.userId, c.var.auth.userId))
      .orderBy(asc(a.id));
    return c.json({ tenants: rows.map((r) => ({ tenant: tenantView(r), role: r.role })) });
  },
);

const TenantParams = z.object({ tenantId: Uuid });
const AddMemberBody = z.object({ email: Email, role: z.enum(["admin", "member"]) });

const withMemberAdd = defineRoute(
  withList,
  createRoute({
    method: "post",
    path: "/{tenantId}/members",
    tags: ["tenants"],
    summary: "Add an existing user to the tenant (owner/admin)",
    security: [{ bearer: [] }],
    request: { params: TenantParams, ...jsonRequest(AddMemberBody) },
    responses: {
      201: jsonResponse("Added", z.object({ member: z.object({ userId: z.string(), role: Role }) })),
      ...problemResponses("invalid_request", "unauthorized", "forbidden", "not_found", "already_member"),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const { tenantId } = params(c, TenantParams);
    const body = await jsonBody(c, AddMemberBody);
    await requireTenantRole(c, tenantId, MANAGER_ROLES);
    const { db, t } = c.var.db;
    const [user] = await db
      .select({ id: t.users.id })
      .from(t.users)
      .where(eq(t.users.email, body.email))
      .limit(1);
    if (!user) throw new ApiError("not_found", "No account with that email.");
    const added = await db
      .insert(t.tenantMemberships)
      .values({ tenantId, userId: user.id, role: body.role, createdAt: c.var.now })
      .onConflictDoNothing()
      .returning({ userId: t.tenantMemberships.userId, role: t.tenantMemberships.role });
    if (added.length === 0) throw new ApiError("already_member");
    await recordSecurityEvent(c, {
      type: "tenant.member_added",
      userId: c.var.auth.userId,
      metadata: { memberUserId: user.id, role: body.role },
    });
    return c.json({ member: { userId: user.id, role: body.role } }, 201);
  },
);

const MemberParams = z.object({ tenantId: Uuid, userId: Uuid });

const withMemberRemove = defineRoute(
  withMemberAdd,
  createRoute({
    method: "delete",
    path: "/{tenantId}/members/{userId}",
    tags: ["tenants"],
    summary: "Remove a member (owner/admin; an admin cannot remove an owner; the last owner stays)",
    security: [{ bearer: [] }],
    request: { params: MemberParams },
    responses: {
      204: { description: "Removed" },
      ...problemResponses("invalid_request", "unauthorized", "forbidden", "not_found", "last_owner"),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const { tenantId, userId } = params(c, MemberParams);
    const callerRole = await requireTenantRole(c, tenantId, MANAGER_ROLES);
    const { db, t } = c.var.db;
    const m = t.tenantMemberships;
    const [target] = await db
      .select({ role: m.role })
      .from(m)
      .where(and(eq(m.tenantId, tenantId), eq(m.userId, userId)));
    if (!target) throw new ApiError("not_found", "Not a member.");
    if (target.role === "owner" && callerRole !== "owner") throw new ApiError("forbidden");

    const otherOwners = db
      .select({ n: count() })
      .from(m)
      .where(and(eq(m.tenantId, tenantId), eq(m.role, "owner"), ne(m.userId, userId)));
    const event = await securityEventRow(c, {
      type: "tenant.member_removed",
      userId: c.var.auth.userId,
      metadata: { memberUserId: userId },
    });
    const [, removed] = await c.var.db.atomic((tx) => [
      // Takes the tenant row's lock on Postgres so two owners removing each other serialize and
      // the second sees the first's delete (SQLite serializes writers anyway).
      tx
        .update(t.tenantAccounts)
        .set({ name: sql`${t.tenantAccounts.name}` })
        .where(eq(t.tenantAccounts.id, tenantId)),
      tx
        .delete(m)
        .where(
          and(
            eq(m.tenantId, tenantId),
            eq(m.userId, userId),
            or(ne(m.role, "owner"), sql`(${otherOwners}) > 0`),
          ),
        )
        .returning({ userId: m.userId }),
    ]);
    if ((removed as unknown[]).length === 0)
      throw new ApiError("last_owner", "A tenant keeps at least one owner.");
    await c.var.db.db.insert(t.securityEvents).values(event);
    return c.body(null, 204);
  },
);

/**
 * Tenants and memberships (mounted at /v1/tenants).
 * Chained route by route (`with…` above), so its type carries every route for typed clients.
 */
export const tenantRoutes = withMemberRemove;

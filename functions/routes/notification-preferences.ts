/**
 * Notification preferences: one row per (user, scope, channel, category), written with a single
 * atomic upsert, so any number of concurrent PUTs of one key leave exactly one row holding one
 * of the written values, in the global scope as much as in a tenant's (see tenant-data/sql.ts
 * for why the key uses scope_id).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, asc, eq } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import { requireTenantRole } from "../auth/tenant-guard";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../http/problems";
import { defineRoute } from "../http/route";
import { jsonRequest, jsonResponse, problemResponses } from "../http/schemas";
import { jsonBody, query } from "../http/validation";
import { requireAuth } from "../middleware/auth";
import { OptionalTenantId, Slug, TenantScopeQuery } from "../tenant-data/schemas";
import { excluded, isMember, rowWhere, scopeIdOf } from "../tenant-data/sql";

const Channel = z.enum(["email", "sms", "push", "in_app"]);

const PreferenceSchema = z
  .object({
    tenantId: z.string().nullable(),
    channel: Channel,
    category: z.string(),
    enabled: z.boolean(),
    updatedAt: z.string(),
  })
  .openapi("NotificationPreference");

const PutBody = z.object({
  tenantId: OptionalTenantId,
  channel: Channel,
  category: Slug,
  enabled: z.boolean(),
});

interface PreferenceRow {
  tenantId: string | null;
  channel: z.infer<typeof Channel>;
  category: string;
  enabled: boolean;
  updatedAt: Date;
}

const view = (p: PreferenceRow) => ({
  tenantId: p.tenantId,
  channel: p.channel,
  category: p.category,
  enabled: p.enabled,
  updatedAt: p.updatedAt.toISOString(),
});

const columns = (c: AppContext) => {
  const p = c.var.db.t.userNotificationPreferences;
  return {
    tenantId: p.tenantId,
    channel: p.channel,
    category: p.category,
    enabled: p.enabled,
    updatedAt: p.updatedAt,
  };
};

const withList = defineRoute(
  new OpenAPIHono<AppEnv>(),
  createRoute({
    method: "get",
    path: "/",
    tags: ["notification-preferences"],
    summary: "The caller's preferences in one scope (global without tenantId)",
    security: [{ bearer: [] }],
    request: { query: TenantScopeQuery },
    responses: {
      200: jsonResponse("Preferences", z.object({ preferences: z.array(PreferenceSchema) })),
      ...problemResponses("invalid_request", "unauthorized", "forbidden"),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const { tenantId } = query(c, TenantScopeQuery);
    if (tenantId) await requireTenantRole(c, tenantId);
    const { db, t } = c.var.db;
    const p = t.userNotificationPreferences;
    const rows = await db
      .select(columns(c))
      .from(p)
      .where(and(eq(p.userId, c.var.auth.userId), eq(p.scopeId, scopeIdOf(tenantId))))
      .orderBy(asc(p.channel), asc(p.category));
    return c.json({ preferences: rows.map(view) });
  },
);

const withUpsert = defineRoute(
  withList,
  createRoute({
    method: "put",
    path: "/",
    tags: ["notification-preferences"],
    summary: "Set one preference (atomic upsert)",
    security: [{ bearer: [] }],
    request: jsonRequest(PutBody),
    responses: {
      200: jsonResponse("The stored preference", z.object({ preference: PreferenceSchema })),
      ...problemResponses(
        "invalid_request",
        "unauthorized",
        "forbidden",
        "unsupported_media_type",
        "payload_too_large",
      ),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const body = await jsonBody(c, PutBody);
    const { db, t } = c.var.db;
    const p = t.userNotificationPreferences;
    const userId = c.var.auth.userId;
    const tenantId = body.tenantId ?? null;
    const row = {
      id: uuidv7(),
      userId,
      tenantId,
      scopeId: scopeIdOf(tenantId),
      channel: body.channel,
      category: body.category,
      enabled: body.enabled,
      createdAt: c.var.now,
      updatedAt: c.var.now,
    };
    // One statement: a plain upsert globally; in a tenant scope the row comes from
    // `SELECT … FROM tenant_memberships WHERE member`, so a non-member (or an unknown tenant)
    // inserts nothing and gets no row back, with no gap between the check and the write.
    const insert = db.insert(p);
    const [saved] = await (tenantId
      ? insert.select(rowWhere(p, row, t.tenantMemberships, isMember(t, tenantId, userId)))
      : insert.values(row)
    )
      .onConflictDoUpdate({
        target: [p.userId, p.scopeId, p.channel, p.category],
        set: { enabled: excluded(p.enabled), updatedAt: excluded(p.updatedAt) },
      })
      .returning(columns(c));
    if (!saved) throw new ApiError("forbidden");
    if (tenantId) c.set("tenantId", tenantId);
    return c.json({ preference: view(saved) });
  },
);

/**
 * Notification preferences: list and upsert (mounted at /v1/notification-preferences).
 * Chained route by route (`with…` above), so its type carries every route for typed clients.
 */
export const notificationPreferenceRoutes = withUpsert;

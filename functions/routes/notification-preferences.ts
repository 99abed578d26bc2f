/** Notification preferences (stores/preferences.ts): list one scope, set one preference. */
import { refuseTenantWrite, TENANT_ERRORS } from "../auth/tenant-guard";
import { json } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse } from "../http/schemas";
import * as z from "../http/zod";
import { listPreferences, preferenceView, upsertPreference } from "../stores/preferences";
import { memberScope, OptionalTenantId, Slug, TenantScopeQuery } from "../tenant-data/schemas";

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

const listScope = defineRoute(
  {
    method: "get",
    path: "/",
    tags: ["notification-preferences"],
    summary: "The caller's preferences in one scope (global without tenantId)",
    security: [{ bearer: [] }],
    request: { query: TenantScopeQuery },
    responses: { 200: jsonResponse("Preferences", z.object({ preferences: z.array(PreferenceSchema) })) },
    errors: [...TENANT_ERRORS],
  },
  async (scope, { query }) => {
    const tenantId = await memberScope(scope, query.tenantId);
    const rows = await listPreferences(scope.db, scope.auth.userId, tenantId);
    return json({ preferences: rows.map(preferenceView) });
  },
);

const setPreference = defineRoute(
  {
    method: "put",
    path: "/",
    tags: ["notification-preferences"],
    summary: "Set one preference (atomic upsert)",
    security: [{ bearer: [] }],
    request: jsonRequest(
      z.object({ tenantId: OptionalTenantId, channel: Channel, category: Slug, enabled: z.boolean() }),
    ),
    responses: { 200: jsonResponse("The stored preference", z.object({ preference: PreferenceSchema })) },
    errors: [...TENANT_ERRORS],
  },
  async (scope, { body }) => {
    // No memberScope: the membership check is folded into the write, so both are one statement.
    const saved = await upsertPreference(
      scope.db,
      scope.auth.userId,
      {
        tenantId: body.tenantId ?? null,
        channel: body.channel,
        category: body.category,
        enabled: body.enabled,
      },
      scope.now,
      scope.auth.aal,
    );
    if (!saved) return refuseTenantWrite(scope, body.tenantId ?? "");
    return json({ preference: preferenceView(saved) });
  },
);

/** Notification preferences: list and upsert (mounted at /v1/notification-preferences). */
export const notificationPreferenceRoutes = routeModule(listScope, setPreference);

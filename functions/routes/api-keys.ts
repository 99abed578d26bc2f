/**
 * Tenant API keys (owners and admins with a verified email): create (the key is shown once),
 * list, revoke. Keys authenticate the /v1/service/* routes (routes/service-access.ts).
 */
import { uuidv7 } from "uuidv7";
import { API_KEY_SCOPES, mintApiKey } from "../auth/api-key";
import { MANAGER_ROLES, requireTenantRole, TENANT_ERRORS } from "../auth/tenant-guard";
import { requireVerifiedEmail } from "../auth/verification";
import { ApiError } from "../http/problems";
import { json, noContent } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse, Uuid } from "../http/schemas";
import * as z from "../http/zod";
import { securityEventRow } from "../security-events";
import { apiKeyView, insertApiKey, keyRevokedAt, listApiKeys, revokeApiKey } from "../stores/api-keys";
import { insertSecurityEventIf, insertSecurityEvents } from "../stores/security-events";

const ApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(z.enum(API_KEY_SCOPES)),
    prefix: z.string().openapi({ description: "The first characters after `udh_`, to tell keys apart" }),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable().openapi({ description: "Updated at most once a minute" }),
  })
  .openapi("ApiKey");

const CreateBody = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z
    .array(z.enum(API_KEY_SCOPES))
    .min(1)
    .max(API_KEY_SCOPES.length)
    .transform((scopes) => [...new Set(scopes)]),
});

const TenantParams = z.object({ tenantId: Uuid });

const createKey = defineRoute(
  {
    method: "post",
    path: "/{tenantId}/api-keys",
    tags: ["api keys"],
    summary: "Create a tenant API key (owner/admin); the key is shown once",
    security: [{ bearer: [] }],
    request: { params: TenantParams, ...jsonRequest(CreateBody) },
    responses: {
      201: jsonResponse(
        "The key's record and the key itself (never shown again)",
        z.object({ apiKey: ApiKeySchema, key: z.string() }),
      ),
    },
    errors: [...TENANT_ERRORS, "email_not_verified"],
  },
  async (scope, { params: { tenantId }, body }) => {
    await requireTenantRole(scope, tenantId, MANAGER_ROLES);
    await requireVerifiedEmail(scope);
    const { key, keyHash, prefix } = await mintApiKey();
    const record = {
      id: uuidv7(),
      name: body.name,
      scopes: body.scopes,
      prefix,
      createdAt: scope.now,
      lastUsedAt: null,
    };
    const event = await securityEventRow(scope, {
      type: "api_key.created",
      userId: scope.auth.userId,
      tenantId,
      metadata: { apiKeyId: record.id },
    });
    const { t } = scope.db;
    const row = { ...record, tenantId, keyHash, createdBy: scope.auth.userId };
    await scope.db.atomic((db) => [insertApiKey(db, t, row), ...insertSecurityEvents(db, t, [event])]);
    return json({ apiKey: apiKeyView(record), key }, 201);
  },
);

const listKeys = defineRoute(
  {
    method: "get",
    path: "/{tenantId}/api-keys",
    tags: ["api keys"],
    summary: "The tenant's live API keys (owner/admin), never the keys themselves",
    security: [{ bearer: [] }],
    request: { params: TenantParams },
    responses: { 200: jsonResponse("Keys", z.object({ apiKeys: z.array(ApiKeySchema) })) },
    errors: [...TENANT_ERRORS],
  },
  async (scope, { params: { tenantId } }) => {
    await requireTenantRole(scope, tenantId, MANAGER_ROLES);
    const rows = await listApiKeys(scope.db, tenantId);
    return json({ apiKeys: rows.map(apiKeyView) });
  },
);

const revokeKey = defineRoute(
  {
    method: "delete",
    path: "/{tenantId}/api-keys/{apiKeyId}",
    tags: ["api keys"],
    summary: "Revoke a tenant API key (owner/admin); it stops working at once",
    security: [{ bearer: [] }],
    request: { params: TenantParams.extend({ apiKeyId: Uuid }) },
    responses: { 204: { description: "Revoked" } },
    errors: [...TENANT_ERRORS, "not_found"],
  },
  async (scope, { params: { tenantId, apiKeyId } }) => {
    await requireTenantRole(scope, tenantId, MANAGER_ROLES);
    const event = await securityEventRow(scope, {
      type: "api_key.revoked",
      userId: scope.auth.userId,
      tenantId,
      metadata: { apiKeyId },
    });
    const { t } = scope.db;
    // The event is written only when this request's UPDATE revoked the key (same batch).
    const [revoked] = await scope.db.atomic((db) => [
      revokeApiKey(db, t, tenantId, apiKeyId, scope.now),
      ...insertSecurityEventIf(db, t, event, t.apiKeys, keyRevokedAt(t, tenantId, apiKeyId, scope.now)),
    ]);
    if (revoked.length === 0) throw new ApiError("not_found");
    return noContent();
  },
);

/** Tenant API keys: create, list, revoke (mounted at /v1/tenants). */
export const apiKeyRoutes = routeModule(createKey, listKeys, revokeKey);

/**
 * A tenant's webhooks (owners and admins): create (the signing secret is shown once), list,
 * delete, and each endpoint's deliveries. Events reach endpoints through the webhook outbox
 * (functions/stores/webhooks.ts, functions/webhooks/dispatch.ts); see docs/webhooks.md.
 */

import { uuidv7 } from "uuidv7";
import { MANAGER_ROLES, requireTenantRole, TENANT_ERRORS } from "../auth/tenant-guard";
import { fetchPage, PageQuery } from "../http/pagination";
import { ApiError } from "../http/problems";
import { json, noContent } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse, Uuid } from "../http/schemas";
import * as z from "../http/zod";
import { newWebhookSecret } from "../lib/webhook-signature";
import { recordSecurityEvent, SECURITY_EVENT_TYPES, securityEventRow } from "../security-events";
import { insertSecurityEvents } from "../stores/security-events";
import {
  ALL_EVENTS,
  deleteWebhook,
  deliveryView,
  insertWebhook,
  listDeliveries,
  listWebhooks,
  webhookExists,
  webhookView,
} from "../stores/webhooks";
import { checkWebhookUrl, type TargetRefusal } from "../webhooks/target";

const WebhookSchema = z
  .object({ id: z.string(), url: z.string(), events: z.array(z.string()), createdAt: z.string() })
  .openapi("Webhook");
const DeliverySchema = z
  .object({
    id: z.string(),
    eventId: z.string(),
    eventType: z.string(),
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    nextAttemptAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("WebhookDelivery");

const EventsField = z
  .array(z.enum([...SECURITY_EVENT_TYPES, ALL_EVENTS]))
  .min(1)
  .max(SECURITY_EVENT_TYPES.length)
  .refine((events) => !events.includes(ALL_EVENTS) || events.length === 1, {
    message: `"${ALL_EVENTS}" stands alone`,
  })
  .transform((events) => [...new Set(events)]);

const TARGET_MESSAGES: Record<TargetRefusal, string> = {
  malformed_url: "must be an absolute URL",
  https_required: "must be https://",
  credentials_in_url: "must not contain a user name or password",
  non_public_address: "must point to a public address",
  unresolvable_host: "host does not resolve",
};

const TenantParams = z.object({ tenantId: Uuid });
const WebhookParams = z.object({ tenantId: Uuid, webhookId: Uuid });

const createWebhook = defineRoute(
  {
    method: "post",
    path: "/{tenantId}/webhooks",
    tags: ["webhooks"],
    summary: "Add a webhook endpoint (owner/admin); the signing secret is shown once",
    security: [{ bearer: [] }],
    request: {
      params: TenantParams,
      ...jsonRequest(z.object({ url: z.string().trim().max(2048), events: EventsField })),
    },
    responses: {
      201: jsonResponse("Created", z.object({ webhook: WebhookSchema, secret: z.string() })),
    },
    errors: [...TENANT_ERRORS],
  },
  async (scope, { params: { tenantId }, body }) => {
    // A validation error, so it comes before any lookup.
    const target = checkWebhookUrl(body.url, scope.config.appEnv === "development");
    if (!target.ok) {
      throw new ApiError("invalid_request", "The webhook URL is not allowed.", {
        errors: [{ path: "url", message: TARGET_MESSAGES[target.reason] }],
      });
    }
    await requireTenantRole(scope, tenantId, MANAGER_ROLES);
    const id = uuidv7();
    const secret = newWebhookSecret();
    const webhook = {
      id,
      tenantId,
      url: target.url.href,
      events: body.events,
      secret: await scope.vault.box.seal(secret, id),
      createdBy: scope.auth.userId,
      createdAt: scope.now,
    };
    const event = await securityEventRow(scope, {
      type: "webhook.created",
      userId: scope.auth.userId,
      tenantId,
      metadata: { webhookId: id },
    });
    const { t } = scope.db;
    // The endpoint first: when it subscribes to webhook.created it gets its own creation event.
    await scope.db.atomic((db) => [insertWebhook(db, t, webhook), ...insertSecurityEvents(db, t, [event])]);
    const view = { id, url: webhook.url, events: webhook.events, createdAt: scope.now.toISOString() };
    return json({ webhook: view, secret }, 201);
  },
);

const listTenantWebhooks = defineRoute(
  {
    method: "get",
    path: "/{tenantId}/webhooks",
    tags: ["webhooks"],
    summary: "The tenant's webhook endpoints (owner/admin; never the secret)",
    security: [{ bearer: [] }],
    request: { params: TenantParams },
    responses: { 200: jsonResponse("Webhooks", z.object({ webhooks: z.array(WebhookSchema) })) },
    errors: [...TENANT_ERRORS],
  },
  async (scope, { params: { tenantId } }) => {
    await requireTenantRole(scope, tenantId, MANAGER_ROLES);
    const rows = await listWebhooks(scope.db, tenantId);
    return json({ webhooks: rows.map(webhookView) });
  },
);

const removeWebhook = defineRoute(
  {
    method: "delete",
    path: "/{tenantId}/webhooks/{webhookId}",
    tags: ["webhooks"],
    summary: "Delete a webhook endpoint and its pending deliveries (owner/admin)",
    security: [{ bearer: [] }],
    request: { params: WebhookParams },
    responses: { 204: { description: "Deleted" } },
    errors: [...TENANT_ERRORS, "not_found"],
  },
  async (scope, { params: { tenantId, webhookId } }) => {
    await requireTenantRole(scope, tenantId, MANAGER_ROLES);
    if (!(await deleteWebhook(scope.db, tenantId, webhookId))) throw new ApiError("not_found");
    await recordSecurityEvent(scope, {
      type: "webhook.deleted",
      userId: scope.auth.userId,
      tenantId,
      metadata: { webhookId },
    });
    return noContent();
  },
);

const webhookDeliveries = defineRoute(
  {
    method: "get",
    path: "/{tenantId}/webhooks/{webhookId}/deliveries",
    tags: ["webhooks"],
    summary: "An endpoint's deliveries, newest first (owner/admin)",
    security: [{ bearer: [] }],
    request: { params: WebhookParams, query: PageQuery },
    responses: {
      200: jsonResponse(
        "Deliveries",
        z.object({ deliveries: z.array(DeliverySchema), nextCursor: z.string().nullable() }),
      ),
    },
    errors: [...TENANT_ERRORS, "not_found"],
  },
  async (scope, { params: { tenantId, webhookId }, query }) => {
    await requireTenantRole(scope, tenantId, MANAGER_ROLES);
    if (!(await webhookExists(scope.db, tenantId, webhookId))) throw new ApiError("not_found");
    const { items, nextCursor } = await fetchPage(query, (window) =>
      listDeliveries(scope.db, webhookId, window),
    );
    return json({ deliveries: items.map(deliveryView), nextCursor });
  },
);

/** Webhooks of a tenant (mounted at /v1/tenants). */
export const webhookRoutes = routeModule(createWebhook, listTenantWebhooks, removeWebhook, webhookDeliveries);

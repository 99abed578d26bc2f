/** The consent ledger (stores/consents.ts): record a decision, the latest per policy, the history. */
import { uuidv7 } from "uuidv7";
import { TENANT_ERRORS } from "../auth/tenant-guard";
import { PageQuery, page } from "../http/pagination";
import { json } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse } from "../http/schemas";
import * as z from "../http/zod";
import { securityEventRow } from "../security-events";
import { consentView, insertConsent, listConsentHistory, listLatestConsents } from "../stores/consents";
import { insertSecurityEvents } from "../stores/security-events";
import { memberScope, OptionalTenantId, Slug, TenantScopeQuery } from "../tenant-data/schemas";

const Decision = z.enum(["granted", "revoked"]);

const ConsentSchema = z
  .object({
    id: z.string(),
    policy: z.string(),
    version: z.string(),
    decision: Decision,
    tenantId: z.string().nullable(),
    source: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("Consent");

const recordConsent = defineRoute(
  {
    method: "post",
    path: "/",
    tags: ["consents"],
    summary: "Record a consent decision (append-only)",
    security: [{ bearer: [] }],
    request: jsonRequest(
      z.object({
        policy: Slug,
        version: z.string().min(1).max(32),
        decision: Decision,
        tenantId: OptionalTenantId,
        source: z.string().min(1).max(64).optional(),
      }),
    ),
    responses: { 201: jsonResponse("The recorded consent", z.object({ consent: ConsentSchema })) },
    errors: [...TENANT_ERRORS],
  },
  async (scope, { body }) => {
    const { userId } = scope.auth;
    const tenantId = await memberScope(scope, body.tenantId);
    const { t } = scope.db;
    const { ipHash, userAgentHash } = await scope.client.hashes();
    const record = {
      id: uuidv7(),
      policy: body.policy,
      version: body.version,
      decision: body.decision,
      tenantId,
      source: body.source ?? null,
      createdAt: scope.now,
    };
    const event = await securityEventRow(scope, {
      type: "consent.recorded",
      userId,
      tenantId,
      metadata: {
        consentId: record.id,
        policy: record.policy,
        version: record.version,
        decision: record.decision,
      },
    });
    const row = { ...record, userId, ipHash, userAgentHash, requestId: scope.requestId };
    // The record and its security event land together or not at all.
    await scope.db.atomic((db) => [insertConsent(db, t, row), ...insertSecurityEvents(db, t, [event])]);
    return json({ consent: consentView(record) }, 201);
  },
);

const latestConsents = defineRoute(
  {
    method: "get",
    path: "/",
    tags: ["consents"],
    summary: "The latest record per policy in one scope (global without tenantId)",
    security: [{ bearer: [] }],
    request: { query: TenantScopeQuery },
    responses: { 200: jsonResponse("Current consents", z.object({ consents: z.array(ConsentSchema) })) },
    errors: [...TENANT_ERRORS],
  },
  async (scope, { query }) => {
    const tenantId = await memberScope(scope, query.tenantId);
    const rows = await listLatestConsents(scope.db, scope.auth.userId, tenantId);
    return json({ consents: rows.map(consentView) });
  },
);

const consentHistory = defineRoute(
  {
    method: "get",
    path: "/history",
    tags: ["consents"],
    summary: "Every record in one scope, newest first, paginated",
    security: [{ bearer: [] }],
    request: { query: PageQuery.extend({ policy: Slug.optional(), tenantId: OptionalTenantId }) },
    responses: {
      200: jsonResponse(
        "Consent history",
        z.object({ consents: z.array(ConsentSchema), nextCursor: z.string().nullable() }),
      ),
    },
    errors: [...TENANT_ERRORS],
  },
  async (scope, { query }) => {
    const tenantId = await memberScope(scope, query.tenantId);
    const rows = await listConsentHistory(scope.db, { ...query, userId: scope.auth.userId, tenantId });
    const { items, nextCursor } = page(rows, query.limit);
    return json({ consents: items.map(consentView), nextCursor });
  },
);

/** The consent ledger: record, latest per policy, history (mounted at /v1/consents). */
export const consentRoutes = routeModule(recordConsent, latestConsents, consentHistory);

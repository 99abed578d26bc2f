/**
 * The service routes (mounted at /v1/service), for a tenant's own backend: authenticated by a
 * tenant API key holding the scope each route names (`security: [{ apiKey: [scope] }]`), never
 * by a session. Every read or write about a user checks, in the same statement, that the user
 * is a member of the key's tenant; a user who is not is 404 not_found.
 */
import type { KeyScope } from "../context";
import { fetchPage, PageQuery } from "../http/pagination";
import { ApiError } from "../http/problems";
import { json } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse, Uuid } from "../http/schemas";
import * as z from "../http/zod";
import { SECURITY_EVENT_TYPES } from "../security-events";
import { consentView, listMemberLatestConsents } from "../stores/consents";
import { listMemberPreferences, preferenceView } from "../stores/preferences";
import { listSecurityEvents, securityEventView } from "../stores/security-events";
import { introspectSession } from "../stores/sessions";
import { findMembership } from "../stores/tenants";
import { counterView, sumDailyTotals, sumMemberDailyTotals } from "../stores/usage";
import { utcDay } from "../tenant-data/dates";
import { Slug } from "../tenant-data/schemas";
import {
  addUsage,
  CounterSchema,
  IncrementHeaders,
  OccurredAt,
  occurredAt,
  Quantity,
  RangeQuery,
  requestHash,
  SeriesSchema,
  seriesOf,
  seriesRange,
} from "../tenant-data/usage";
import { SecurityEventPage } from "./security-event-schemas";
import { Role } from "./tenant-schemas";

const UserParams = z.object({ userId: Uuid });

const Introspection = z
  .union([
    z.object({
      active: z.literal(true),
      userId: z.string(),
      sessionId: z.string(),
      aal: z.number().int(),
      expiresAt: z.string(),
      role: Role.nullable().openapi({
        description: "The user's role in the key's tenant; null: not a member",
      }),
    }),
    z.object({ active: z.literal(false) }),
  ])
  .openapi("Introspection");

const introspect = defineRoute(
  {
    method: "post",
    path: "/introspect",
    tags: ["service"],
    summary: "Is this a live session token, and whose? (RFC 7662 style; never extends the session)",
    security: [{ apiKey: ["sessions:introspect"] }],
    request: jsonRequest(z.object({ token: z.string().min(1).max(4096) })),
    responses: { 200: jsonResponse("The token's state", Introspection) },
  },
  async (scope, { body }) => {
    const session = await introspectSession(scope.db, body.token, scope.key.tenantId, scope.now);
    if (!session) return json({ active: false });
    return json({ active: true, ...session, expiresAt: session.expiresAt.toISOString() });
  },
);

/** 404 not_found unless `userId` is a member of the key's tenant (for the rare path that asks apart from a write). */
async function requireMember(scope: KeyScope, userId: string): Promise<void> {
  if (!(await findMembership(scope.db, scope.key.tenantId, userId))) throw new ApiError("not_found");
}

/**
 * Stored idempotency keys are per user; the service's are kept apart from the user's own by a
 * prefix with a space, which no client key (visible ASCII only) can contain.
 */
const serviceIdempotencyKey = (tenantId: string, key: string) => `service ${tenantId} ${key}`;

const increment = defineRoute(
  {
    method: "post",
    path: "/usage",
    tags: ["service"],
    summary: "Add to a member's usage counter in the key's tenant (as POST /v1/usage with its tenantId)",
    security: [{ apiKey: ["usage:write"] }],
    request: {
      headers: IncrementHeaders,
      ...jsonRequest(z.object({ userId: Uuid, feature: Slug, quantity: Quantity, occurredAt: OccurredAt })),
    },
    responses: { 200: jsonResponse("The counter after the increment", z.object({ counter: CounterSchema })) },
    errors: ["not_found", "idempotency_key_reused"],
  },
  async (scope, { headers, body }) => {
    const { tenantId } = scope.key;
    const key = headers["idempotency-key"];
    const add = {
      userId: body.userId,
      tenantId,
      // A key is not a user session: a tenant's MFA requirement (aal 2) concerns its members'
      // sessions, and the key was created by an owner or admin of the tenant, so it is admitted.
      aal: 2,
      feature: body.feature,
      periodStart: utcDay(occurredAt(body.occurredAt, scope.now) ?? scope.now),
      quantity: body.quantity,
      now: scope.now,
    };
    const idempotency = key
      ? {
          key: serviceIdempotencyKey(tenantId, key),
          requestHash: await requestHash(body),
          dayGiven: body.occurredAt !== undefined,
        }
      : undefined;
    const guard = { admit: () => requireMember(scope, body.userId), refusal: "not_found" as const };
    const { periodStart, total } = await addUsage(scope, add, idempotency, guard);
    return json({ counter: counterView({ feature: body.feature, tenantId, periodStart, total }) });
  },
);

const series = defineRoute(
  {
    method: "get",
    path: "/usage",
    tags: ["service"],
    summary: "Usage series of the key's tenant: every member, or one (userId)",
    security: [{ apiKey: ["usage:read"] }],
    request: {
      query: RangeQuery.extend({
        feature: Slug.optional().openapi({ description: "One feature; omitted: all features summed" }),
        userId: Uuid.optional().openapi({ description: "One member; omitted: the whole tenant" }),
      }),
    },
    responses: { 200: jsonResponse("Totals per period, zero-filled, and their sum", SeriesSchema) },
    errors: ["not_found"],
  },
  async (scope, { query: q }) => {
    const range = seriesRange(q, scope.now);
    const { tenantId } = scope.key;
    const days = q.userId
      ? await sumMemberDailyTotals(scope.db, { tenantId, userId: q.userId, feature: q.feature, ...range })
      : await sumDailyTotals(scope.db, { tenantId, userId: null, feature: q.feature, ...range });
    if (!days) throw new ApiError("not_found");
    return json(seriesOf(days, range, q.granularity));
  },
);

const PreferenceSchema = z.object({
  tenantId: z.string().nullable(),
  channel: z.enum(["email", "sms", "push", "in_app"]),
  category: z.string(),
  enabled: z.boolean(),
  updatedAt: z.string(),
});

const preferences = defineRoute(
  {
    method: "get",
    path: "/users/{userId}/notification-preferences",
    tags: ["service"],
    summary: "A member's notification preferences: the key's tenant's and global",
    security: [{ apiKey: ["preferences:read"] }],
    request: { params: UserParams },
    responses: { 200: jsonResponse("Preferences", z.object({ preferences: z.array(PreferenceSchema) })) },
    errors: ["not_found"],
  },
  async (scope, { params }) => {
    const rows = await listMemberPreferences(scope.db, scope.key.tenantId, params.userId);
    if (!rows) throw new ApiError("not_found");
    return json({ preferences: rows.map(preferenceView) });
  },
);

const ConsentSchema = z.object({
  id: z.string(),
  policy: z.string(),
  version: z.string(),
  decision: z.enum(["granted", "revoked"]),
  tenantId: z.string().nullable(),
  source: z.string().nullable(),
  createdAt: z.string(),
});

const consents = defineRoute(
  {
    method: "get",
    path: "/users/{userId}/consents",
    tags: ["service"],
    summary: "A member's latest consent per policy: the key's tenant's and global",
    security: [{ apiKey: ["consents:read"] }],
    request: { params: UserParams },
    responses: { 200: jsonResponse("Current consents", z.object({ consents: z.array(ConsentSchema) })) },
    errors: ["not_found"],
  },
  async (scope, { params }) => {
    const rows = await listMemberLatestConsents(scope.db, scope.key.tenantId, params.userId);
    if (!rows) throw new ApiError("not_found");
    return json({ consents: rows.map(consentView) });
  },
);

const events = defineRoute(
  {
    method: "get",
    path: "/security-events",
    tags: ["service"],
    summary: "The key's tenant's security events, newest first",
    security: [{ apiKey: ["events:read"] }],
    request: { query: PageQuery.extend({ type: z.enum(SECURITY_EVENT_TYPES).optional() }) },
    responses: { 200: jsonResponse("Events", SecurityEventPage) },
  },
  async (scope, { query: q }) => {
    const feed = { tenantId: scope.key.tenantId };
    const { items, nextCursor } = await fetchPage(q, (window) =>
      listSecurityEvents(scope.db, feed, { type: q.type, ...window }),
    );
    return json({ events: items.map(securityEventView), nextCursor });
  },
);

/** The service routes, authenticated by tenant API keys (mounted at /v1/service). */
export const serviceAccessRoutes = routeModule(introspect, increment, series, preferences, consents, events);

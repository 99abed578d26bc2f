/**
 * Usage metering: per-day counters per (user, scope, feature), incremented atomically, with
 * optional Idempotency-Key replay, and a series read by day or month for the caller or (for
 * owners/admins) a whole tenant. The SQL lives in stores/usage.ts, what the service routes
 * share in tenant-data/usage.ts.
 */
import { MANAGER_ROLES, requireTenantRole, TENANT_ERRORS } from "../auth/tenant-guard";
import type { AuthState } from "../context";
import { json } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse } from "../http/schemas";
import * as z from "../http/zod";
import { authState, type SessionSighting, sessionOfToken } from "../stores/sessions";
import { counterView, findIdempotencyKeyBySession, sumDailyTotals } from "../stores/usage";
import { utcDay } from "../tenant-data/dates";
import { invalidField, OptionalTenantId, Slug } from "../tenant-data/schemas";
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

const IncrementBody = z.object({
  feature: Slug,
  quantity: Quantity,
  tenantId: OptionalTenantId,
  occurredAt: OccurredAt,
});

const SeriesQuery = RangeQuery.extend({
  feature: Slug.optional().openapi({ description: "One feature; omitted: all features summed" }),
  tenantId: OptionalTenantId,
  scope: z
    .enum(["me", "tenant"])
    .default("me")
    .openapi({ description: "tenant: every member (owner/admin)" }),
});

const increment = defineRoute(
  {
    method: "post",
    path: "/",
    tags: ["usage"],
    summary: "Add to today's (or occurredAt's) usage counter",
    security: [{ bearer: [] }],
    // One round trip: the session is looked up inside the counter's write (or the key's batch).
    sessionCheck: "folded",
    request: { headers: IncrementHeaders, ...jsonRequest(IncrementBody) },
    responses: { 200: jsonResponse("The counter after the increment", z.object({ counter: CounterSchema })) },
    errors: [...TENANT_ERRORS, "idempotency_key_reused"],
  },
  async (scope, { headers, body }) => {
    const key = headers["idempotency-key"];
    const tenantId = body.tenantId ?? null;
    const session = sessionOfToken(scope.db.t, scope.session.tokenHash, scope.now);
    // Only a write that wrote nothing (why not: 401 or 403) or a replay looks the session up
    // again: with the key row (a replay), or on its own.
    let known: AuthState | undefined;
    const authenticated = async () => (known ??= await scope.session.authenticate());
    const add = {
      userId: session.userId,
      tenantId,
      aal: session.aal,
      session,
      feature: body.feature,
      periodStart: utcDay(occurredAt(body.occurredAt, scope.now) ?? scope.now),
      quantity: body.quantity,
      now: scope.now,
    };
    const idempotency = key
      ? { key, requestHash: await requestHash(body), dayGiven: body.occurredAt !== undefined }
      : undefined;
    const guard = {
      admit: async () =>
        void (await requireTenantRole({ ...scope, auth: await authenticated() }, tenantId ?? "")),
      refusal: "forbidden" as const,
      session: {
        confirm: (found: SessionSighting | null) => scope.session.confirm(found),
        findKey: async (key: string) => {
          const found = await findIdempotencyKeyBySession(scope.db, session, key);
          scope.session.confirm(found?.session ?? null);
          known = authState(found!.session, found!.session.expiresAt);
          return { userId: known.userId, row: found!.key };
        },
      },
    };
    const { periodStart, total } = await addUsage(scope, add, idempotency, guard);
    return json({ counter: counterView({ feature: body.feature, tenantId, periodStart, total }) });
  },
);

const series = defineRoute(
  {
    method: "get",
    path: "/",
    tags: ["usage"],
    summary: "Usage series by day or month (UTC), for the caller or a whole tenant",
    security: [{ bearer: [] }],
    request: { query: SeriesQuery },
    responses: { 200: jsonResponse("Totals per period, zero-filled, and their sum", SeriesSchema) },
    errors: [...TENANT_ERRORS],
  },
  async (scope, { query: q }) => {
    const range = seriesRange(q, scope.now);
    if (q.scope === "tenant" && !q.tenantId)
      throw invalidField("query", "tenantId", "is required with scope=tenant");
    if (q.tenantId)
      await requireTenantRole(scope, q.tenantId, q.scope === "tenant" ? MANAGER_ROLES : undefined);
    const days = await sumDailyTotals(scope.db, {
      tenantId: q.tenantId ?? null,
      userId: q.scope === "me" ? scope.auth.userId : null,
      feature: q.feature,
      ...range,
    });
    return json(seriesOf(days, range, q.granularity));
  },
);

/** Usage counters: increment and series (mounted at /v1/usage). */
export const usageRoutes = routeModule(increment, series);

/**
 * Usage metering: per-day counters per (user, scope, feature), incremented atomically, with
 * optional Idempotency-Key replay, and a series read by day or month for the caller or (for
 * owners/admins) a whole tenant. The SQL lives in stores/usage.ts.
 */
import { z } from "@hono/zod-openapi";
import { MANAGER_ROLES, refuseTenantWrite, requireTenantRole, TENANT_ERRORS } from "../auth/tenant-guard";
import type { AuthedScope } from "../context";
import { ApiError } from "../http/problems";
import { json } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse } from "../http/schemas";
import { sha256Hex } from "../lib/tokens";
import {
  counterView,
  findIdempotencyKey,
  incrementOnce,
  incrementUsage,
  sumDailyTotals,
} from "../stores/usage";
import { addDays, daysBetween, monthOf, periodStarts, utcDay } from "../tenant-data/dates";
import { invalidField, OptionalTenantId, Slug } from "../tenant-data/schemas";

/** How far back `occurredAt` may lie (late reports), and how far ahead (client clock skew). */
export const OCCURRED_AT_MAX_AGE_MS = 168 * 60 * 60 * 1000;
export const OCCURRED_AT_MAX_SKEW_MS = 5 * 60 * 1000;
/** Longest range one series read covers, per granularity (bounds the response size). */
export const MAX_RANGE_DAYS = { day: 366, month: 3_660 } as const;
/** How long a duplicate waits for the first request's answer before giving up (503). */
const REPLAY_WAIT_MS = 5_000;
const REPLAY_POLL_MS = 50;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

const IncrementBody = z.object({
  feature: Slug,
  quantity: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .openapi({ description: "Added to the counter: an integer from 1 to 1,000,000" }),
  tenantId: OptionalTenantId,
  occurredAt: z.iso
    .datetime({ offset: true, message: "must be an ISO-8601 date-time" })
    .optional()
    .openapi({ description: "Within the past 168 hours and at most 5 minutes ahead; default now" }),
});

/**
 * A bad key is answered as it always was: 400 naming the header as clients spell it
 * (`Idempotency-Key`), before the body is read. A zod issue would name the lower-cased header
 * under other wording, so the check throws that answer itself.
 */
const IncrementHeaders = z.object({
  "idempotency-key": z
    .string()
    .optional()
    .refine((key) => {
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
        throw invalidField("header", "Idempotency-Key", "must be 1-255 visible ASCII characters");
      }
      return true;
    })
    .openapi({
      description: "1-255 visible ASCII characters; the same key from the same user within 24 h counts once",
    }),
});

const CounterSchema = z
  .object({
    feature: z.string(),
    tenantId: z.string().nullable(),
    period: z.literal("day"),
    periodStart: z.string(),
    total: z.number().int(),
  })
  .openapi("UsageCounter");

const SeriesQuery = z.object({
  feature: Slug.optional().openapi({ description: "One feature; omitted: all features summed" }),
  tenantId: OptionalTenantId,
  from: z.iso
    .date({ message: "must be a date (YYYY-MM-DD)" })
    .optional()
    .openapi({
      description: `Default: to − 29 days. The range spans at most ${MAX_RANGE_DAYS.day} days (day) or ${MAX_RANGE_DAYS.month} days (month)`,
    }),
  to: z.iso
    .date({ message: "must be a date (YYYY-MM-DD)" })
    .optional()
    .openapi({ description: "Default: today (UTC)" }),
  granularity: z.enum(["day", "month"]).default("day"),
  scope: z
    .enum(["me", "tenant"])
    .default("me")
    .openapi({ description: "tenant: every member (owner/admin)" }),
});

const SeriesSchema = z
  .object({
    series: z.array(z.object({ periodStart: z.string(), total: z.number().int() })),
    total: z.number().int(),
  })
  .openapi("UsageSeries");

type Body = z.infer<typeof IncrementBody>;

function occurredAt(body: Body, now: Date): Date | null {
  if (body.occurredAt === undefined) return null;
  const at = new Date(body.occurredAt);
  const age = now.getTime() - at.getTime();
  if (age > OCCURRED_AT_MAX_AGE_MS || -age > OCCURRED_AT_MAX_SKEW_MS) {
    throw invalidField(
      "body",
      "occurredAt",
      "must lie within the past 168 hours and at most 5 minutes ahead",
    );
  }
  return at;
}

/** The request as the JSON it parses to, keys sorted: equal bodies hash equal whatever their layout. */
function requestHash(body: Body): Promise<string> {
  const sorted = Object.fromEntries(Object.entries(body).sort(([a], [b]) => (a < b ? -1 : 1)));
  return sha256Hex(JSON.stringify(sorted));
}

/** The answer: the counter of `body`'s feature and scope on `periodStart`. */
const counterAnswer = (body: Body, periodStart: string, total: number) =>
  json({
    counter: counterView({ feature: body.feature, tenantId: body.tenantId ?? null, periodStart, total }),
  });

/**
 * Answers a duplicate of a request whose key is live: 403 for a tenant it is not a member of
 * (any more), 409 for a different body, else the first request's answer. The answer is rebuilt
 * from the equal body, the stored total and the claim time (the day when occurredAt was absent).
 * The first request stores its total in the same atomic batch as its claim, so the wait below
 * normally ends on the first read; it is a bounded guard, not a lock.
 */
async function replay(scope: AuthedScope, body: Body, key: string, hash: string): Promise<Response> {
  if (body.tenantId) await requireTenantRole(scope, body.tenantId);
  const deadline = Date.now() + REPLAY_WAIT_MS;
  for (;;) {
    const row = await findIdempotencyKey(scope.db, scope.auth.userId, key);
    if (row && row.requestHash !== hash) throw new ApiError("idempotency_key_reused");
    if (row && typeof row.response === "number") {
      return counterAnswer(
        body,
        utcDay(body.occurredAt ? new Date(body.occurredAt) : row.createdAt),
        row.response,
      );
    }
    if (Date.now() >= deadline) {
      throw new ApiError(
        "service_unavailable",
        "The first request with this Idempotency-Key has not finished.",
        {
          headers: { "Retry-After": "1" },
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, REPLAY_POLL_MS));
  }
}

const increment = defineRoute(
  {
    method: "post",
    path: "/",
    tags: ["usage"],
    summary: "Add to today's (or occurredAt's) usage counter",
    security: [{ bearer: [] }],
    request: { headers: IncrementHeaders, ...jsonRequest(IncrementBody) },
    responses: { 200: jsonResponse("The counter after the increment", z.object({ counter: CounterSchema })) },
    errors: [...TENANT_ERRORS, "idempotency_key_reused"],
  },
  async (scope, { headers, body }) => {
    const key = headers["idempotency-key"];
    const periodStart = utcDay(occurredAt(body, scope.now) ?? scope.now);
    const add = {
      userId: scope.auth.userId,
      tenantId: body.tenantId ?? null,
      aal: scope.auth.aal,
      feature: body.feature,
      periodStart,
      quantity: body.quantity,
      now: scope.now,
    };
    if (!key) {
      const total = await incrementUsage(scope.db, add);
      if (total === null) return refuseTenantWrite(scope, body.tenantId ?? "");
      return counterAnswer(body, periodStart, total);
    }
    const hash = await requestHash(body);
    const total = await incrementOnce(scope.db, add, key, hash, scope.config.usageIdempotencyTtlMs);
    if (total !== null) return counterAnswer(body, periodStart, total);
    return replay(scope, body, key, hash);
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
    const to = q.to ?? utcDay(scope.now);
    const from = q.from ?? addDays(to, -29);
    if (from > to) throw invalidField("query", "from", "must not be after to");
    if (daysBetween(from, to) >= MAX_RANGE_DAYS[q.granularity]) {
      throw invalidField("query", "from", `the range spans at most ${MAX_RANGE_DAYS[q.granularity]} days`);
    }
    if (q.scope === "tenant" && !q.tenantId)
      throw invalidField("query", "tenantId", "is required with scope=tenant");
    if (q.tenantId)
      await requireTenantRole(scope, q.tenantId, q.scope === "tenant" ? MANAGER_ROLES : undefined);
    const days = await sumDailyTotals(scope.db, {
      tenantId: q.tenantId ?? null,
      userId: q.scope === "me" ? scope.auth.userId : null,
      feature: q.feature,
      from,
      to,
    });
    const totals = new Map(periodStarts(from, to, q.granularity).map((p) => [p, 0]));
    for (const [day, total] of days) {
      const period = q.granularity === "day" ? day : monthOf(day);
      totals.set(period, (totals.get(period) ?? 0) + total);
    }
    const points = [...totals].map(([periodStart, total]) => ({ periodStart, total }));
    return json({ series: points, total: points.reduce((sum, p) => sum + p.total, 0) });
  },
);

/** Usage counters: increment and series (mounted at /v1/usage). */
export const usageRoutes = routeModule(increment, series);

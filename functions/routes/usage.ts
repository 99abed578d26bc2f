/**
 * Usage metering: per-day counters per (user, scope, feature), incremented atomically, with
 * optional Idempotency-Key replay, and a series read by day or month for the caller or (for
 * owners/admins) a whole tenant. The SQL lives in tenant-data/usage-store.ts.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { MANAGER_ROLES, requireTenantRole } from "../auth/tenant-guard";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../http/problems";
import { defineRoute } from "../http/route";
import { jsonRequest, jsonResponse, problemResponses } from "../http/schemas";
import { jsonBody, query } from "../http/validation";
import { sha256Hex } from "../lib/tokens";
import { requireAuth } from "../middleware/auth";
import { addDays, daysBetween, monthOf, periodStarts, utcDay } from "../tenant-data/dates";
import { invalidField, OptionalTenantId, Slug } from "../tenant-data/schemas";
import { scopeIdOf } from "../tenant-data/sql";
import { dailyTotals, incrementOnce, incrementUsage, readIdempotencyKey } from "../tenant-data/usage-store";

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
  quantity: z.number().int().min(1).max(1_000_000),
  tenantId: OptionalTenantId,
  occurredAt: z.iso
    .datetime({ offset: true, message: "must be an ISO-8601 date-time" })
    .optional()
    .openapi({ description: "Within the past 168 hours and at most 5 minutes ahead; default now" }),
});

const IncrementHeaders = z.object({
  "idempotency-key": z.string().optional().openapi({
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
    .openapi({ description: "Default: to − 29 days" }),
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

function idempotencyKey(c: AppContext): string | null {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return null;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw invalidField("header", "Idempotency-Key", "must be 1-255 visible ASCII characters");
  }
  return key;
}

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

const counterView = (body: Body, periodStart: string, total: number) => ({
  feature: body.feature,
  tenantId: body.tenantId ?? null,
  period: "day" as const,
  periodStart,
  total,
});

/**
 * Answers a duplicate of a request whose key is live: 403 for a tenant it is not a member of
 * (any more), 409 for a different body, else the first request's answer. The answer is rebuilt
 * from the equal body, the stored total and the claim time (the day when occurredAt was absent).
 * The first request stores its total in the same atomic batch as its claim, so the wait below
 * normally ends on the first read; it is a bounded guard, not a lock.
 */
async function replay(c: AppContext, body: Body, key: string, hash: string) {
  if (body.tenantId) await requireTenantRole(c, body.tenantId);
  const deadline = Date.now() + REPLAY_WAIT_MS;
  for (;;) {
    const row = await readIdempotencyKey(c.var.db, c.var.auth.userId, key);
    if (row && row.requestHash !== hash) throw new ApiError("idempotency_key_reused");
    if (row && typeof row.response === "number") {
      return counterView(
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

const withIncrement = defineRoute(
  new OpenAPIHono<AppEnv>(),
  createRoute({
    method: "post",
    path: "/",
    tags: ["usage"],
    summary: "Add to today's (or occurredAt's) usage counter",
    security: [{ bearer: [] }],
    request: { headers: IncrementHeaders, ...jsonRequest(IncrementBody) },
    responses: {
      200: jsonResponse("The counter after the increment", z.object({ counter: CounterSchema })),
      ...problemResponses(
        "invalid_request",
        "unauthorized",
        "forbidden",
        "idempotency_key_reused",
        "unsupported_media_type",
        "payload_too_large",
      ),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const key = idempotencyKey(c);
    const body = await jsonBody(c, IncrementBody);
    const at = occurredAt(body, c.var.now);
    const periodStart = utcDay(at ?? c.var.now);
    const increment = {
      userId: c.var.auth.userId,
      tenantId: body.tenantId ?? null,
      feature: body.feature,
      periodStart,
      quantity: body.quantity,
      now: c.var.now,
    };
    if (!key) {
      const total = await incrementUsage(c.var.db, increment);
      if (total === null) throw new ApiError("forbidden");
      return c.json({ counter: counterView(body, periodStart, total) });
    }
    const hash = await requestHash(body);
    const total = await incrementOnce(c.var.db, increment, key, hash, c.var.config.usageIdempotencyTtlMs);
    if (total !== null) return c.json({ counter: counterView(body, periodStart, total) });
    return c.json({ counter: await replay(c, body, key, hash) });
  },
);

const withSeries = defineRoute(
  withIncrement,
  createRoute({
    method: "get",
    path: "/",
    tags: ["usage"],
    summary: "Usage series by day or month (UTC), for the caller or a whole tenant",
    security: [{ bearer: [] }],
    request: { query: SeriesQuery },
    responses: {
      200: jsonResponse("Totals per period, zero-filled, and their sum", SeriesSchema),
      ...problemResponses("invalid_request", "unauthorized", "forbidden"),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const q = query(c, SeriesQuery);
    const to = q.to ?? utcDay(c.var.now);
    const from = q.from ?? addDays(to, -29);
    if (from > to) throw invalidField("query", "from", "must not be after to");
    if (daysBetween(from, to) >= MAX_RANGE_DAYS[q.granularity]) {
      throw invalidField("query", "from", `the range spans at most ${MAX_RANGE_DAYS[q.granularity]} days`);
    }
    if (q.scope === "tenant" && !q.tenantId)
      throw invalidField("query", "tenantId", "is required with scope=tenant");
    if (q.tenantId) await requireTenantRole(c, q.tenantId, q.scope === "tenant" ? MANAGER_ROLES : undefined);
    const days = await dailyTotals(c.var.db, {
      scopeId: scopeIdOf(q.tenantId),
      userId: q.scope === "me" ? c.var.auth.userId : null,
      feature: q.feature,
      from,
      to,
    });
    const totals = new Map(periodStarts(from, to, q.granularity).map((p) => [p, 0]));
    for (const [day, total] of days) {
      const period = q.granularity === "day" ? day : monthOf(day);
      totals.set(period, (totals.get(period) ?? 0) + total);
    }
    const series = [...totals].map(([periodStart, total]) => ({ periodStart, total }));
    return c.json({ series, total: series.reduce((sum, p) => sum + p.total, 0) });
  },
);

/**
 * Usage counters: increment and series (mounted at /v1/usage).
 * Chained route by route (`with…` above), so its type carries every route for typed clients.
 */
export const usageRoutes = withSeries;

/**
 * What the user's usage routes (routes/usage.ts) and the service usage routes
 * (routes/service-access.ts) share: the request fields, the once-per-Idempotency-Key increment
 * with its replay, and the series read's range and zero-filled periods. The SQL lives in
 * stores/usage.ts.
 */
import type { RequestScope } from "../context";
import { ApiError, type ProblemCode } from "../http/problems";
import * as z from "../http/zod";
import { sha256Hex } from "../lib/tokens";
import type { SessionSighting } from "../stores/sessions";
import {
  type Added,
  findIdempotencyKey,
  type Increment,
  incrementOnce,
  incrementUsage,
  type StoredKey,
} from "../stores/usage";
import { addDays, daysBetween, monthOf, periodStarts, utcDay } from "./dates";
import { invalidField } from "./schemas";

/** How far back `occurredAt` may lie (late reports), and how far ahead (client clock skew). */
export const OCCURRED_AT_MAX_AGE_MS = 168 * 60 * 60 * 1000;
export const OCCURRED_AT_MAX_SKEW_MS = 5 * 60 * 1000;
/** Longest range one series read covers, per granularity (bounds the response size). */
export const MAX_RANGE_DAYS = { day: 366, month: 3_660 } as const;
/** How long a duplicate waits for the first request's answer before giving up (503). */
const REPLAY_WAIT_MS = 5_000;
const REPLAY_POLL_MS = 50;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export const Quantity = z
  .number()
  .int()
  .min(1)
  .max(1_000_000)
  .openapi({ description: "Added to the counter: an integer from 1 to 1,000,000" });

export const OccurredAt = z.iso
  .datetime({ offset: true, message: "must be an ISO-8601 date-time" })
  .optional()
  .openapi({ description: "Within the past 168 hours and at most 5 minutes ahead; default now" });

/**
 * A bad key is answered as it always was: 400 naming the header as clients spell it
 * (`Idempotency-Key`), before the body is read. A zod issue would name the lower-cased header
 * under other wording, so the check throws that answer itself.
 */
export const IncrementHeaders = z.object({
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

export const CounterSchema = z
  .object({
    feature: z.string(),
    tenantId: z.string().nullable(),
    period: z.literal("day"),
    periodStart: z.string(),
    total: z.number().int(),
  })
  .openapi("UsageCounter");

/** The range fields of a series read. */
export const RangeQuery = z.object({
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
});

export const SeriesSchema = z
  .object({
    series: z.array(z.object({ periodStart: z.string(), total: z.number().int() })),
    total: z.number().int(),
  })
  .openapi("UsageSeries");

/** `occurredAt` as a time, checked against the request time (400 outside the window); null when absent. */
export function occurredAt(value: string | undefined, now: Date): Date | null {
  if (value === undefined) return null;
  const at = new Date(value);
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
export function requestHash(body: object): Promise<string> {
  const sorted = Object.fromEntries(Object.entries(body).sort(([a], [b]) => (a < b ? -1 : 1)));
  return sha256Hex(JSON.stringify(sorted));
}

/** How a route answers a tenant-scoped increment whose statement found no admitting membership. */
export interface MemberGuard {
  /** Throws the route's refusal when the user is not admitted to the tenant now. */
  admit(): Promise<void>;
  /** The refusal when `admit` passes after the write did not (the membership changed in between). */
  refusal: ProblemCode;
  /**
   * A folded session check (`add.session` set): takes the session the write saw; when the write
   * wrote nothing, reads the caller's key row with the session lookup (401 without a live
   * session), one statement, which also names the caller for `admit`.
   */
  session?: {
    confirm(found: SessionSighting | null): unknown;
    findKey(key: string): Promise<{ userId: string; row: StoredKey | null }>;
  };
}

export interface Idempotency {
  /** The key as stored: the caller's header, namespaced by the route when it must not meet the user's own. */
  key: string;
  requestHash: string;
  /** The request named its day (`occurredAt`): a replay answers that day, not the claim's. */
  dayGiven: boolean;
}

/**
 * Adds the increment (once per idempotency key when one is given) and returns the counter's
 * period and total. A duplicate of a live key is answered with the first request's total: 409
 * for a different body; the refusal of `guard` for a user no longer admitted to the tenant. The
 * first request stores its total in the same atomic batch as its claim, so the wait below
 * normally ends on the first read; it is a bounded guard, not a lock.
 */
export async function addUsage(
  scope: RequestScope,
  add: Increment,
  idempotency: Idempotency | undefined,
  guard: MemberGuard,
): Promise<{ periodStart: string; total: number }> {
  const counted = ({ total, sighting }: Added) => {
    guard.session?.confirm(sighting);
    return { periodStart: add.periodStart, total };
  };
  if (!idempotency) {
    const added = await incrementUsage(scope.db, add);
    if (added !== null) return counted(added);
    await guard.admit();
    throw new ApiError(guard.refusal);
  }
  const { key, requestHash: hash } = idempotency;
  const ttl = scope.config.usageIdempotencyTtlMs;
  const added = await incrementOnce(scope.db, add, key, hash, ttl);
  if (added !== null) return counted(added);

  // A duplicate (or no live session, or not admitted): the caller, then the stored answer.
  let first: { userId: string; row: StoredKey | null } | undefined;
  if (typeof add.userId !== "string") first = await guard.session!.findKey(key);
  const userId = first?.userId ?? (add.userId as string);
  if (add.tenantId) await guard.admit();
  const deadline = Date.now() + REPLAY_WAIT_MS;
  for (;;) {
    const row = first ? first.row : await findIdempotencyKey(scope.db, userId, key);
    first = undefined;
    if (row && row.requestHash !== hash) throw new ApiError("idempotency_key_reused");
    if (row && typeof row.response === "number") {
      return {
        periodStart: idempotency.dayGiven ? add.periodStart : utcDay(row.createdAt),
        total: row.response,
      };
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

/** The days a series read covers: `to` defaults to today, `from` to 29 days before (400 when inverted or too long). */
export function seriesRange(q: z.output<typeof RangeQuery>, now: Date): { from: string; to: string } {
  const to = q.to ?? utcDay(now);
  const from = q.from ?? addDays(to, -29);
  if (from > to) throw invalidField("query", "from", "must not be after to");
  if (daysBetween(from, to) >= MAX_RANGE_DAYS[q.granularity]) {
    throw invalidField("query", "from", `the range spans at most ${MAX_RANGE_DAYS[q.granularity]} days`);
  }
  return { from, to };
}

/** The series answer: daily totals summed per period, every period of the range present (zero-filled). */
export function seriesOf(
  days: Map<string, number>,
  range: { from: string; to: string },
  granularity: "day" | "month",
) {
  const totals = new Map(periodStarts(range.from, range.to, granularity).map((p) => [p, 0]));
  for (const [day, total] of days) {
    const period = granularity === "day" ? day : monthOf(day);
    totals.set(period, (totals.get(period) ?? 0) + total);
  }
  const series = [...totals].map(([periodStart, total]) => ({ periodStart, total }));
  return { series, total: series.reduce((sum, p) => sum + p.total, 0) };
}

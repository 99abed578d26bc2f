/**
 * Applying rate limits in routes: identifiers are keyed hashes (the store never sees an IP or
 * an email), a refusal is recorded as `auth.rate_limited` and answered 429 with Retry-After
 * and RateLimit-* headers. Store failures propagate as RateLimitUnavailableError (503).
 */
import type { RequestScope } from "../context";
import { ApiError } from "../http/problems";
import type { RateLimitResult, RateRule } from "../ratelimit/types";
import { recordSecurityEvent } from "../security-events";

export interface LimitCheck {
  rule: RateRule;
  /** Already-hashed or non-identifying identifier (see identifiers below). */
  identifier: string;
}

/** Rate-limit identifier for the client's IP (its keyed hash), or "unknown" when there is none. */
export async function ipIdentifier(scope: RequestScope): Promise<string> {
  return (await scope.client.hashes()).ipHash ?? "unknown";
}

/** Rate-limit identifier for an email address (keyed hash of the normalized address). */
export function emailIdentifier(scope: RequestScope, email: string): Promise<string> {
  return scope.vault.keyedHash(`email:${email}`);
}

function refuse(scope: RequestScope, check: LimitCheck, result: RateLimitResult): ApiError {
  const now = scope.now.getTime();
  const retryAfter = Math.max(1, Math.ceil((result.resetAt - now) / 1000));
  return new ApiError("rate_limited", "Too many attempts; try again later.", {
    headers: {
      "Retry-After": String(retryAfter),
      "RateLimit-Limit": String(check.rule.limit),
      "RateLimit-Remaining": "0",
      "RateLimit-Reset": String(retryAfter),
    },
  });
}

async function apply(
  scope: RequestScope,
  checks: LimitCheck[],
  userId: string | null,
  run: (check: LimitCheck) => Promise<RateLimitResult>,
): Promise<void> {
  const results = await Promise.all(checks.map(run));
  const blocked = results.findIndex((r) => !r.allowed);
  if (blocked === -1) return;
  const check = checks[blocked]!;
  await recordSecurityEvent(scope, {
    type: "auth.rate_limited",
    userId,
    metadata: { rule: check.rule.name },
  });
  throw refuse(scope, check, results[blocked]!);
}

/** Counts this request against every check; 429 if any is over its limit. */
export function consumeLimits(
  scope: RequestScope,
  checks: LimitCheck[],
  userId: string | null,
): Promise<void> {
  return apply(scope, checks, userId, (x) => scope.limiter.limit(x.rule, x.identifier));
}

/** Refuses (429) when any check has nothing left, without counting this request. */
export function peekLimits(scope: RequestScope, checks: LimitCheck[], userId: string | null): Promise<void> {
  return apply(scope, checks, userId, (x) => scope.limiter.peek(x.rule, x.identifier));
}

/** Counts a failure against every check (limits that count only failures). */
export async function countFailure(scope: RequestScope, checks: LimitCheck[]): Promise<void> {
  await Promise.all(checks.map((x) => scope.limiter.limit(x.rule, x.identifier)));
}

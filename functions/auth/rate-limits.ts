/**
 * Throttling guesses (passwords, second factors) and costly requests (registration, messages).
 *
 * An attempt is counted atomically on every rule that applies BEFORE the password or code is
 * checked, so however many requests race, no more guesses than a rule's limit are ever checked
 * per window and key. A correct answer gives its count back (`release`), so ordinary use never
 * locks anyone out; one that arrives while a rule is exhausted is refused unchecked (429 naming
 * the rule). Giving back happens after the response (`scope.afterResponse`), so a request waits
 * for ONE store round trip, the count; see `Release`. Identifiers are keyed hashes (the store never sees an IP or an email). Store
 * failures propagate as RateLimitUnavailableError (503): no store, no guess.
 */
import type { RequestScope } from "../context";
import { ApiError } from "../http/problems";
import type { RateLimitResult, RateRule } from "../ratelimit/types";
import { recordSecurityEvent } from "../security-events";

export interface LimitCheck {
  rule: RateRule;
  /** Keyed hash naming the bucket; null when the request has no client address (skipped). */
  identifier: string | null;
}

/** Identifies what a rule counts: the client network, an account (email), a user id. */
export const limitKeys = {
  /** The client's network (IPv4 address or IPv6 /64); null when the platform gave no address. */
  network: (scope: RequestScope) =>
    scope.client.network === null ? null : scope.vault.hash.limitKey(`network:${scope.client.network}`),
  account: (scope: RequestScope, email: string) => scope.vault.hash.limitKey(`account:${email}`),
  accountNetwork: (scope: RequestScope, email: string) =>
    scope.client.network === null
      ? null
      : scope.vault.hash.limitKey(`account:${email}\nnetwork:${scope.client.network}`),
  user: (scope: RequestScope, userId: string) => scope.vault.hash.limitKey(`user:${userId}`),
};

function refusal(scope: RequestScope, rule: RateRule, result: RateLimitResult): ApiError {
  const retryAfter = Math.max(1, Math.ceil((result.resetAt - scope.now.getTime()) / 1000));
  return new ApiError("rate_limited", "Too many attempts; try again later.", {
    headers: {
      "Retry-After": String(retryAfter),
      "RateLimit-Limit": String(rule.limit),
      "RateLimit-Remaining": "0",
      "RateLimit-Reset": String(retryAfter),
    },
    members: { limit: rule.name },
  });
}

/**
 * Gives back the attempt a `reserveAttempt` counted (the password or code was right).
 * `exhausted` names the rules this attempt used the last slot of (it "tripped" them).
 *
 * The refund is sent after the response, not awaited: the count must precede the check, but
 * nothing in the answer depends on the refund, so waiting for a second store round trip would
 * only add latency (a login or MFA step then waits for one limiter round trip, not two). It
 * works the same on every store (an Upstash call cannot join a database batch). Until it lands
 * (milliseconds) the attempt stays counted, and if it fails it stays counted for the window:
 * both err on the safe side (the rule's limit is never exceeded).
 */
export type Release = (() => Promise<void>) & { exhausted: readonly string[] };

/**
 * Counts one attempt on every check at once. When any rule is exhausted, the others give their
 * count back (an attempt nobody checked must not use up another rule: a flood from one network
 * would otherwise exhaust the account-wide limit), the refusal is recorded as
 * `auth.rate_limited` on `userId` and answered 429 with the rule's name. Checks without an
 * identifier (no client address) are skipped with a warning: clients are never pooled into one
 * shared bucket.
 */
export async function reserveAttempt(
  scope: RequestScope,
  checks: readonly LimitCheck[],
  userId: string | null,
  tenantId: string | null = null,
): Promise<Release> {
  const live = checks.filter((c): c is LimitCheck & { identifier: string } => c.identifier !== null);
  if (live.length < checks.length) {
    scope.log({
      level: "warn",
      msg: "no client address: per-network limits skipped",
      requestId: scope.requestId,
    });
  }
  if (live.length === 0) return Object.assign(async () => {}, { exhausted: [] });
  const results = await scope.limiter.limit(live);
  const counted = live.filter((_, i) => results[i]?.allowed);
  const exhausted = live
    .filter((_, i) => results[i]?.allowed && results[i]?.remaining === 0)
    .map((c) => c.rule.name);
  const release: Release = Object.assign(
    async () => {
      if (counted.length > 0) scope.afterResponse(() => scope.limiter.refund(counted));
    },
    { exhausted },
  );
  const refused = results.findIndex((r) => !r.allowed);
  if (refused === -1) return release;
  await release();
  const rule = live[refused]!.rule;
  await recordSecurityEvent(scope, {
    type: "auth.rate_limited",
    userId,
    tenantId,
    metadata: { limit: rule.name },
  });
  throw refusal(scope, rule, results[refused]!);
}

/** The password rules for a sign-in or re-authentication with `email`. */
export async function passwordChecks(scope: RequestScope, email: string): Promise<LimitCheck[]> {
  const { passwordPerAccountNetwork, passwordPerAccount, passwordPerNetwork } = scope.config.rateLimits;
  const [accountNetwork, account, network] = await Promise.all([
    limitKeys.accountNetwork(scope, email),
    limitKeys.account(scope, email),
    limitKeys.network(scope),
  ]);
  return [
    { rule: passwordPerAccountNetwork, identifier: accountNetwork },
    { rule: passwordPerAccount, identifier: account },
    { rule: passwordPerNetwork, identifier: network },
  ];
}

/** The second-factor rules for checking a code of `userId`. */
export async function secondFactorChecks(scope: RequestScope, userId: string): Promise<LimitCheck[]> {
  const { mfaPerUser, mfaPerUserDaily, mfaPerNetwork } = scope.config.rateLimits;
  const [user, network] = await Promise.all([limitKeys.user(scope, userId), limitKeys.network(scope)]);
  return [
    { rule: mfaPerUser, identifier: user },
    { rule: mfaPerUserDaily, identifier: user },
    { rule: mfaPerNetwork, identifier: network },
  ];
}

/**
 * Counts one message to `email` (reset, verification resend); false when the address had its
 * share this hour. Never refuses the request: the caller still answers 202, sends nothing.
 */
export async function allowMessage(scope: RequestScope, email: string): Promise<boolean> {
  const [result] = await scope.limiter.limit([
    { rule: scope.config.rateLimits.emailMessages, identifier: await limitKeys.account(scope, email) },
  ]);
  return result?.allowed === true;
}

/**
 * The webhook dispatcher: POSTs due deliveries (functions/stores/webhooks.ts) to their
 * endpoints, each attempt at most once even with several dispatchers running at once (a
 * request's after-response pass, the periodic pass, a second instance), like the mail outbox
 * (functions/outbox/dispatch.ts). For each due delivery it
 *   1. claims it with one conditional UPDATE (status `sending`, a lease, attempts + 1);
 *   2. checks the target again (functions/webhooks/target.ts: the URL as written, and on Node
 *      every address its host resolves to), opens the sealed secret (bound to the webhook id)
 *      and POSTs the signed event (Standard Webhooks headers; `webhook-id` is the delivery id,
 *      the same on every retry, so receivers can drop duplicates), with `redirect: "manual"` (a
 *      3xx is a failure, never followed: a redirect could point anywhere) and the configured
 *      timeout (10 s);
 *   3. records the outcome while still holding the claim: `delivered` for a 2xx; otherwise
 *      `pending` again after retryBaseMs · 2^(attempts − 1) (30 s, 1 min, 2 min…) while the
 *      attempt budget lasts, then `failed`. The budget is derived from the retry window: the
 *      fewest attempts whose waits add up to at least WEBHOOK_RETRY_HOURS (24 h: 13 attempts,
 *      the last about 34 h after the first).
 * A dispatcher that dies between 1 and 3 leaves the delivery `sending`; once its lease runs out
 * it is due again (at least once, never lost). Log lines carry ids, attempt, status code and a
 * short reason: never the URL (it may hold a token), the secret or the body.
 */
import type { Database } from "../../db/database";
import type { Config } from "../config";
import type { SecretBox } from "../lib/secret-box";
import { signWebhook } from "../lib/webhook-signature";
import {
  type ClaimedDelivery,
  claimDelivery,
  type DeliveryOutcome,
  finishDelivery,
  listDueDeliveryIds,
} from "../stores/webhooks";
import { checkDeliveryTarget, type ResolveHost } from "./target";

/** Shortest claim lease; a claim always outlives an attempt (twice the timeout, if longer). */
export const WEBHOOK_CLAIM_LEASE_MS = 60_000;
/** Most deliveries one pass looks at. */
export const DEFAULT_WEBHOOK_DISPATCH_LIMIT = 100;

type WebhookConfig = Pick<Config, "webhooks" | "appEnv">;

export interface WebhookDispatchOptions {
  /** Opens the sealed signing secrets (the app's AES-GCM keyring). */
  box: SecretBox;
  config: WebhookConfig;
  /** The time, read at each claim and outcome (platform clock or test clock), or fixed. */
  now: Date | (() => Date);
  limit?: number;
  /** Only the deliveries of these events (those a request just wrote); without it, any due one. */
  eventIds?: readonly string[];
  /** Resolves host names to check every address (Node); absent on Workers (see target.ts). */
  resolveHost?: ResolveHost | undefined;
  /** Structured log lines (ids, attempt, status, reason only). */
  log?: (line: Record<string, unknown>) => void;
}

export interface WebhookDispatchResult {
  delivered: number;
  /** Failed, back to pending for a later attempt. */
  retried: number;
  failed: number;
}

export function webhookLeaseMs(config: WebhookConfig): number {
  return Math.max(WEBHOOK_CLAIM_LEASE_MS, 2 * config.webhooks.timeoutMs);
}

/** Wait after failed attempt number `attempts` (1-based): base · 2^(attempts − 1). */
export function webhookBackoffMs(config: WebhookConfig, attempts: number): number {
  return config.webhooks.retryBaseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40);
}

/** The attempt budget: the first attempt, plus retries until their waits cover the retry window. */
export function webhookMaxAttempts(config: WebhookConfig): number {
  let attempts = 1;
  let waited = 0;
  while (waited < config.webhooks.retryWindowMs) {
    waited += webhookBackoffMs(config, attempts);
    attempts++;
  }
  return attempts;
}

/** Delivers due webhook deliveries (see the header). */
export async function dispatchWebhooks(
  database: Database,
  opts: WebhookDispatchOptions,
): Promise<WebhookDispatchResult> {
  const clock = typeof opts.now === "function" ? opts.now : () => opts.now as Date;
  const result: WebhookDispatchResult = { delivered: 0, retried: 0, failed: 0 };
  const keys = await listDueDeliveryIds(
    database,
    clock(),
    opts.limit ?? DEFAULT_WEBHOOK_DISPATCH_LIMIT,
    opts.eventIds,
  );
  const lease = webhookLeaseMs(opts.config);
  for (const key of keys) {
    // Another dispatcher may have taken it since the list was read: then skip it.
    const claim = await claimDelivery(database, key, clock(), lease);
    if (!claim) continue;
    const { outcome, reason } = await attempt(claim, opts, clock);
    result[
      outcome.status === "delivered" ? "delivered" : outcome.status === "pending" ? "retried" : "failed"
    ]++;
    const recorded = await finishDelivery(database, claim, outcome);
    if (outcome.status !== "delivered" || !recorded) {
      opts.log?.({
        level: outcome.status === "failed" ? "error" : "warn",
        msg: recorded ? "webhook delivery failed" : "webhook claim lost",
        deliveryId: claim.id,
        webhookId: claim.webhookId,
        attempt: claim.attempts,
        outcome: outcome.status,
        statusCode: outcome.statusCode,
        reason,
      });
    }
  }
  return result;
}

/** One attempt of a claimed delivery; never throws. */
async function attempt(
  claim: ClaimedDelivery,
  opts: WebhookDispatchOptions,
  clock: () => Date,
): Promise<{ outcome: DeliveryOutcome; reason?: string }> {
  const { config } = opts;
  const maxAttempts = webhookMaxAttempts(config);
  if (claim.attempts > maxAttempts) {
    // The last allowed attempt was claimed and never reported (its dispatcher died): no more.
    return { outcome: { status: "failed", statusCode: null }, reason: "attempts_exhausted" };
  }
  let statusCode: number | null = null;
  let reason: string;
  try {
    const target = await checkDeliveryTarget(claim.url, config.appEnv === "development", opts.resolveHost);
    if (!target.ok) throw new DeliveryRefused(target.reason);
    const secret = await opts.box.open(claim.secret, claim.webhookId);
    const body = JSON.stringify(claim.payload);
    const signed = await signWebhook(secret, { id: claim.id, timestamp: clock(), body });
    const response = await fetch(target.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...signed },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(config.webhooks.timeoutMs),
    });
    statusCode = response.status;
    // The answer's body is not read (nor kept): release the connection.
    await response.body?.cancel().catch(() => {});
    if (response.ok) return { outcome: { status: "delivered", at: clock(), statusCode } };
    reason = response.status >= 300 && response.status < 400 ? "redirect" : "http_status";
  } catch (error) {
    reason = failureReason(error);
  }
  if (claim.attempts < maxAttempts) {
    const nextAttemptAt = new Date(clock().getTime() + webhookBackoffMs(config, claim.attempts));
    return { outcome: { status: "pending", nextAttemptAt, statusCode }, reason };
  }
  return { outcome: { status: "failed", statusCode }, reason };
}

/** A target refused at delivery (functions/webhooks/target.ts); counts as a failed attempt. */
class DeliveryRefused extends Error {
  override name = "DeliveryRefused";
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** A short reason for a failure without an answer (never an error message: it may hold the URL). */
function failureReason(error: unknown): string {
  if (error instanceof DeliveryRefused) return error.reason;
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"))
    return "timeout";
  if (error instanceof Error && /^[A-Za-z0-9_.-]{1,64}$/.test(error.name)) return error.name;
  return "Error";
}

/**
 * The outbox dispatcher: sends due messages through a mail transport, at most once per
 * successful delivery attempt even with several dispatchers running at once (a request's
 * after-response pass, the periodic pass, a second instance). For each due message it
 *   1. claims it with one conditional UPDATE (status `sending`, a lease, attempts + 1): of
 *      racing dispatchers exactly one wins, the others move on;
 *   2. opens the sealed payload (associated data: the message id), renders it, sends it,
 *      giving up after the configured mail timeout;
 *   3. records the outcome, conditional on still holding the claim: `sent`; or, for a retryable
 *      failure with attempts left, `pending` again after an exponential backoff
 *      (retryBaseMs · 2^(attempts − 1)); otherwise `failed`.
 * A dispatcher that dies between 1 and 3 leaves the message `sending`; once its lease runs out
 * the message is due again and the next pass sends it (attempt counted again).
 *
 * Nothing here logs or stores a recipient, a body or a token: log lines carry the message id,
 * kind, attempt and a short reason; `last_error` holds the reason only.
 */
import type { Database } from "../../db/database";
import type { Config } from "../config";
import type { SecretBox } from "../lib/secret-box";
import { renderMessage } from "../mail/messages";
import {
  MailDeliveryError,
  type MailTransport,
  MESSAGE_KINDS,
  type MessageKind,
  type MessagePayload,
} from "../mail/types";
import {
  type ClaimedOutboxMessage,
  claimOutboxMessage,
  finishOutboxMessage,
  listDueOutboxIds,
  type OutboxOutcome,
} from "../stores/outbox";

/** Shortest claim lease. A claim always outlives a send (twice the mail timeout, if longer). */
export const CLAIM_LEASE_MS = 60_000;
/** Most messages one pass looks at. */
export const DEFAULT_DISPATCH_LIMIT = 100;
/** Longest wait between two attempts, however many attempts a deployment allows. */
export const MAX_BACKOFF_MS = 24 * 60 * 60 * 1000;
/** `last_error` is kept short. */
const MAX_REASON_LENGTH = 200;

export interface DispatchOptions {
  transport: MailTransport;
  /** Opens the sealed payloads (the app's AES-GCM keyring). */
  box: SecretBox;
  config: Pick<Config, "outbox" | "mail">;
  /**
   * The time: a function read at each claim and outcome (the platform clock, or a test clock), or
   * a fixed Date for the whole pass.
   */
  now: Date | (() => Date);
  /** Most messages to look at in this pass (default 100). */
  limit?: number;
  /** Only these messages (those a request just queued); without it, any due message. */
  ids?: readonly string[];
  /** Structured log lines (never a recipient, body or token). */
  log?: (line: Record<string, unknown>) => void;
}

export interface DispatchResult {
  sent: number;
  /** Failed retryably, back to pending for a later attempt. */
  retried: number;
  failed: number;
}

/** The lease a claim gets: never shorter than twice the time a send may take. */
export function claimLeaseMs(config: Pick<Config, "mail">): number {
  return Math.max(CLAIM_LEASE_MS, 2 * config.mail.timeoutMs);
}

/** Delay before the attempt after attempt number `attempts` (1-based) failed retryably. */
export function backoffMs(config: Pick<Config, "outbox">, attempts: number): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 40);
  return Math.min(config.outbox.retryBaseMs * 2 ** exponent, MAX_BACKOFF_MS);
}

/** Sends due messages (see the header); returns how many were sent, put back for retry, failed. */
export async function dispatchDue(database: Database, opts: DispatchOptions): Promise<DispatchResult> {
  const clock = typeof opts.now === "function" ? opts.now : () => opts.now as Date;
  const result: DispatchResult = { sent: 0, retried: 0, failed: 0 };
  const ids = await listDueOutboxIds(database, clock(), opts.limit ?? DEFAULT_DISPATCH_LIMIT, opts.ids);
  const lease = claimLeaseMs(opts.config);
  for (const id of ids) {
    // Another dispatcher may have taken it since the list was read: then skip it.
    const claim = await claimOutboxMessage(database, id, clock(), lease);
    if (!claim) continue;
    const outcome = await attempt(claim, opts, clock);
    result[outcome.status === "sent" ? "sent" : outcome.status === "pending" ? "retried" : "failed"]++;
    const recorded = await finishOutboxMessage(database, claim, outcome);
    if (outcome.status !== "sent" || !recorded) {
      opts.log?.({
        level: outcome.status === "failed" ? "error" : "warn",
        msg: recorded ? "outbox delivery failed" : "outbox claim lost",
        messageId: claim.id,
        kind: claim.kind,
        attempt: claim.attempts,
        outcome: outcome.status,
        ...(outcome.status === "sent" ? {} : { reason: outcome.lastError }),
      });
    }
  }
  return result;
}

/** One delivery attempt of a claimed message; never throws. */
async function attempt(
  claim: ClaimedOutboxMessage,
  opts: DispatchOptions,
  clock: () => Date,
): Promise<OutboxOutcome> {
  const { config } = opts;
  if (claim.attempts > config.outbox.maxAttempts) {
    // The last allowed attempt was claimed and never reported (its dispatcher died): no more.
    return { status: "failed", lastError: "attempts_exhausted" };
  }
  try {
    if (!(MESSAGE_KINDS as readonly string[]).includes(claim.kind)) {
      throw new MailDeliveryError("unknown_kind", false);
    }
    const payload = JSON.parse(await opts.box.open(claim.payload, claim.id)) as MessagePayload;
    const message = renderMessage(claim.kind as MessageKind, payload, config.mail, claim.recipient);
    await sendWithin(opts.transport, message, config.mail.timeoutMs);
    return { status: "sent", at: clock() };
  } catch (error) {
    const delivery = error instanceof MailDeliveryError ? error : undefined;
    const reason = (delivery ? delivery.reason : errorName(error)).slice(0, MAX_REASON_LENGTH);
    const retryable = delivery ? delivery.retryable : true;
    if (retryable && claim.attempts < config.outbox.maxAttempts) {
      const nextAttemptAt = new Date(clock().getTime() + backoffMs(config, claim.attempts));
      return { status: "pending", nextAttemptAt, lastError: reason };
    }
    return { status: "failed", lastError: reason };
  }
}

/** The transport's send, abandoned (retryable "timeout") if it has not settled within `ms`. */
async function sendWithin(
  transport: MailTransport,
  message: Parameters<MailTransport["send"]>[0],
  ms: number,
) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MailDeliveryError("timeout", true)), ms);
  });
  try {
    await Promise.race([transport.send(message), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** An error's class name (its message may hold a recipient or SQL parameters: never used). */
function errorName(error: unknown): string {
  if (error instanceof Error && /^[A-Za-z0-9_.-]{1,64}$/.test(error.name)) return error.name;
  return "Error";
}

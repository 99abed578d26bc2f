/**
 * The periodic pass every deployment runs from its scheduler (the Worker's cron trigger, an
 * EventBridge rule for Lambda): the sweep of expired rows (db/sweep.ts, which also deletes
 * sent and failed messages after the outbox retention), one outbox dispatch pass, which
 * sends what the after-response passes could not (a provider outage, a retry that came due, a
 * dispatcher that died holding a claim), and one webhook dispatch pass (the same, for webhook
 * deliveries: functions/webhooks/dispatch.ts). `npm run outbox:dispatch` runs both dispatches.
 */
import type { Database } from "../../db/database";
import { type SweepResult, sweepExpired } from "../../db/sweep";
import type { Config } from "../config";
import type { SecretBox } from "../lib/secret-box";
import type { MailTransport } from "../mail/types";
import { dispatchWebhooks, type WebhookDispatchResult } from "../webhooks/dispatch";
import type { ResolveHost } from "../webhooks/target";
import { type DispatchResult, dispatchDue } from "./dispatch";

/** Most messages one periodic pass looks at. */
export const PERIODIC_DISPATCH_LIMIT = 500;

export interface PeriodicOptions {
  config: Config;
  box: SecretBox;
  /** Without one the dispatch is skipped (messages wait, pending). */
  transport: MailTransport | undefined;
  /** The clock (the platform's, or a test's). */
  now: () => Date;
  log: (line: Record<string, unknown>) => void;
  /** Checks every address of a webhook host (Node, Lambda); none on Workers. */
  resolveHost?: ResolveHost | undefined;
}

export interface PeriodicResult {
  sweep: SweepResult;
  /** Undefined when there is no transport. */
  outbox: DispatchResult | undefined;
  /** Undefined when the webhook pass failed. */
  webhooks: WebhookDispatchResult | undefined;
}

/**
 * Sweeps, then dispatches mail and webhooks, each logged on one line. Each runs even if another fails; the
 * first failure is then thrown (so the platform records a failed run).
 */
export async function runPeriodicPass(database: Database, opts: PeriodicOptions): Promise<PeriodicResult> {
  const { config, log } = opts;
  const failures: unknown[] = [];
  let sweep: SweepResult | undefined;
  try {
    sweep = await sweepExpired(database, opts.now(), {
      outboxRetentionMs: config.outbox.retentionMs,
      securityEventRetentionMs: config.retention.securityEventsMs,
      consentRetentionMs: config.retention.consentsMs,
    });
    log({ level: "info", msg: "sweep", ...sweep });
  } catch (error) {
    failures.push(error);
    log({ level: "error", msg: "sweep failed", error: errorName(error) });
  }
  let outbox: DispatchResult | undefined;
  if (!opts.transport) {
    log({
      level: "warn",
      msg: "outbox dispatch skipped: no mail transport",
      transport: config.mail.transport,
    });
  } else {
    try {
      outbox = await dispatchDue(database, {
        transport: opts.transport,
        box: opts.box,
        config,
        now: opts.now,
        limit: PERIODIC_DISPATCH_LIMIT,
        log,
      });
      log({ level: "info", msg: "outbox dispatch", ...outbox });
    } catch (error) {
      failures.push(error);
      log({ level: "error", msg: "outbox dispatch failed", error: errorName(error) });
    }
  }
  let webhooks: WebhookDispatchResult | undefined;
  try {
    webhooks = await dispatchWebhooks(database, {
      box: opts.box,
      config,
      now: opts.now,
      limit: PERIODIC_DISPATCH_LIMIT,
      resolveHost: opts.resolveHost,
      log,
    });
    log({ level: "info", msg: "webhook dispatch", ...webhooks });
  } catch (error) {
    failures.push(error);
    log({ level: "error", msg: "webhook dispatch failed", error: errorName(error) });
  }
  if (failures.length > 0) throw failures[0];
  return { sweep: sweep!, outbox, webhooks };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

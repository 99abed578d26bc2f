/**
 * AWS Lambda entry (API Gateway v1/v2, Function URLs, ALB) through Hono's Lambda adapter.
 * The `@hono/aws-lambda` package named in Hono's deprecation notice is not published on npm
 * yet, so this uses `hono/aws-lambda`. Needs DATABASE_URL (Postgres or libSQL); the
 * environment → dependencies part lives in platform/lambda.ts (shared with functions/standalone/).
 *
 * Mail: a request's queued messages are sent in the background after its response. Lambda may
 * freeze the container as soon as the response is returned; the send then resumes with the next
 * event, or (its claim run out) the periodic pass sends the message: `scheduled` below, for an
 * EventBridge schedule rule (functions/lambda.scheduled), runs the sweep and the outbox dispatch.
 */
import { handle } from "hono/aws-lambda";
import { createApp } from "./app";
import type { Config } from "./config";
import type { AppDeps } from "./context";
import { createSecretBox, parseKeyring } from "./lib/secret-box";
import { nodemailerTransport } from "./mail/smtp-node";
import type { MailTransport } from "./mail/types";
import { type PeriodicResult, runPeriodicPass } from "./outbox/periodic";
import { lambdaDeps } from "./platform/lambda";
import { mailTransportFor } from "./platform/mail";
import { resolveHostNode } from "./platform/resolve-node";

export { lambdaSourceIp } from "./platform/lambda";

type Env = Record<string, string | undefined>;

export interface LambdaOptions {
  /** The mail transport (default: the configured one, functions/outbox/transport.ts). */
  mailTransport?: (config: Config) => MailTransport | undefined;
  /** Receives the after-response work (tests await it); default: it runs in the background. */
  defer?: (work: Promise<void>) => void;
}

function depsFor(env: Env, options: LambdaOptions): AppDeps {
  const deps = lambdaDeps(env);
  const transport = (
    options.mailTransport ?? ((config) => mailTransportFor(config, "node", nodemailerTransport))
  )(deps.config);
  return {
    ...deps,
    resolveHost: resolveHostNode,
    ...(transport ? { mailTransport: transport } : {}),
    ...(options.defer ? { defer: options.defer } : {}),
  };
}

/** Builds the Lambda app from an environment (exported for tests). */
export function createLambdaApp(env: Env, options: LambdaOptions = {}) {
  return createApp(depsFor(env, options));
}

/** A Lambda handler over an explicit environment (tests, or several apps in one process). */
export function createLambdaHandler(env: Env, options: LambdaOptions = {}): ReturnType<typeof handle> {
  return handle(createLambdaApp(env, options));
}

/** An EventBridge scheduled event (only its time is read, and only for the log). */
export interface LambdaScheduledEvent {
  time?: string;
  [key: string]: unknown;
}

/** A scheduled handler over an explicit environment: the periodic pass (sweep and outbox dispatch). */
export function createLambdaScheduledHandler(
  env: Env,
  options: LambdaOptions = {},
): (event?: LambdaScheduledEvent) => Promise<PeriodicResult> {
  let deps: AppDeps | undefined;
  return async () => {
    deps ??= depsFor(env, options);
    const { config } = deps;
    const log = deps.log ?? ((line: Record<string, unknown>) => console.log(JSON.stringify(line)));
    const now = deps.now ?? Date.now;
    // Lambda's opener reads nothing from a request (there is none here); the pool is the
    // container's, kept across events, and closing the handle is a no-op.
    const database = deps.database(undefined as never);
    try {
      return await runPeriodicPass(database, {
        config,
        box: createSecretBox(parseKeyring(config.encryptionKeys)),
        transport: deps.mailTransport,
        resolveHost: deps.resolveHost,
        now: () => new Date(now()),
        log,
      });
    } finally {
      await database.close();
    }
  };
}

let handler: ReturnType<typeof handle> | undefined;
let scheduledHandler: ReturnType<typeof createLambdaScheduledHandler> | undefined;

/** The deployed handler (`functions/lambda.handler`): built from process.env on the first event. */
export const lambdaHandler: ReturnType<typeof handle> = (event, context) => {
  handler ??= createLambdaHandler(process.env);
  return handler(event, context);
};
export { lambdaHandler as handler };

/** The deployed scheduled handler (`functions/lambda.scheduled`, an EventBridge rule's target). */
export const scheduled = (event?: LambdaScheduledEvent): Promise<PeriodicResult> => {
  scheduledHandler ??= createLambdaScheduledHandler(process.env);
  return scheduledHandler(event);
};

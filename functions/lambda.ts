/**
 * AWS Lambda entry (API Gateway v1/v2, Function URLs, ALB) through Hono's Lambda adapter.
 * The `@hono/aws-lambda` package named in Hono's deprecation notice is not published on npm
 * yet, so this uses `hono/aws-lambda`. Needs DATABASE_URL (Neon Postgres or libSQL).
 */
import { neonConfig } from "@neondatabase/serverless";
import type { Context } from "hono";
import { handle, type LambdaEvent } from "hono/aws-lambda";
import ws from "ws";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { databaseOpener } from "./platform/database-url";
import { rateLimiterFactory } from "./platform/rate-limiter";

neonConfig.webSocketConstructor = ws;

/** The source IP API Gateway saw (v2 `http.sourceIp`, v1 `identity.sourceIp`). */
export function lambdaSourceIp(c: Context): string | null {
  const event = (c.env as { event?: LambdaEvent } | undefined)?.event as
    | { requestContext?: { http?: { sourceIp?: string }; identity?: { sourceIp?: string } } }
    | undefined;
  return event?.requestContext?.http?.sourceIp ?? event?.requestContext?.identity?.sourceIp ?? null;
}

/** Builds the Lambda app from an environment (exported for tests). */
export function createLambdaApp(env: Record<string, string | undefined>) {
  if (!env.DATABASE_URL) throw new Error("DATABASE_URL is required on Lambda");
  const config = loadConfig(env);
  // One pool per warm container, reused across invocations.
  const openDatabase = databaseOpener(env.DATABASE_URL, {
    perRequest: false,
    maxConnections: 1,
    ...(env.DATABASE_AUTH_TOKEN ? { authToken: env.DATABASE_AUTH_TOKEN } : {}),
  });
  return createApp({
    config,
    database: openDatabase,
    rateLimiter: rateLimiterFactory(config),
    clientIp: lambdaSourceIp,
  });
}

let handler: ReturnType<typeof handle> | undefined;

export const lambdaHandler: ReturnType<typeof handle> = (event, context) => {
  handler ??= handle(createLambdaApp(process.env));
  return handler(event, context);
};
export { lambdaHandler as handler };

/**
 * AWS Lambda → AppDeps, shared by the full Lambda handler (functions/lambda.ts) and the
 * per-route handlers (functions/standalone/). Needs DATABASE_URL (Neon Postgres or libSQL).
 */
import { neonConfig } from "@neondatabase/serverless";
import type { Context } from "hono";
import type { LambdaEvent } from "hono/aws-lambda";
import ws from "ws";
import { loadConfig } from "../config";
import type { AppDeps } from "../context";
import { databaseOpener } from "./database-url";
import { rateLimiterFactory } from "./rate-limiter";

// Node has no global WebSocket before 22; the Neon driver needs one.
neonConfig.webSocketConstructor = ws;

/** The source IP API Gateway saw (v2 `http.sourceIp`, v1 `identity.sourceIp`). */
export function lambdaSourceIp(c: Context): string | null {
  const event = (c.env as { event?: LambdaEvent } | undefined)?.event as
    | { requestContext?: { http?: { sourceIp?: string }; identity?: { sourceIp?: string } } }
    | undefined;
  return event?.requestContext?.http?.sourceIp ?? event?.requestContext?.identity?.sourceIp ?? null;
}

/** Turns a Lambda environment into the app's dependencies (once per warm container). */
export function lambdaDeps(env: Record<string, string | undefined>): AppDeps {
  if (!env.DATABASE_URL) throw new Error("DATABASE_URL is required on Lambda");
  const config = loadConfig(env);
  // One pool per warm container, reused across invocations.
  const openDatabase = databaseOpener(env.DATABASE_URL, {
    perRequest: false,
    maxConnections: 1,
    ...(env.DATABASE_AUTH_TOKEN ? { authToken: env.DATABASE_AUTH_TOKEN } : {}),
  });
  return {
    config,
    database: openDatabase,
    rateLimiter: rateLimiterFactory(config),
    clientIp: lambdaSourceIp,
  };
}

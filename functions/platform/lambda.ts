/**
 * AWS Lambda → AppDeps, shared by the full Lambda handler (functions/lambda.ts) and the
 * per-route handlers (functions/standalone/). Needs DATABASE_URL (Postgres or libSQL).
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

type LambdaEventShape = {
  requestContext?: { http?: { sourceIp?: string }; identity?: { sourceIp?: string }; elb?: unknown };
  headers?: Record<string, string | undefined> | null;
  multiValueHeaders?: Record<string, string[] | undefined> | null;
};

/** A header from an event's header map, by case-insensitive name (exact lower-case key first). */
function eventHeader<T>(
  headers: Record<string, T | undefined> | null | undefined,
  name: string,
): T | undefined {
  if (!headers) return undefined;
  if (headers[name] !== undefined) return headers[name];
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/**
 * The client IP of an Application Load Balancer event. ALB events carry no source IP field
 * (`requestContext` is only `{ elb: { targetGroupArn } }`); the load balancer appends the
 * address of the peer it accepted the connection from to X-Forwarded-For (the default
 * `append` processing mode, AWS ELB docs "X-Forwarded headers"). Only that last entry is the
 * load balancer's word: entries further left are whatever the client sent, and trusting them
 * would let a client pick its own rate-limit bucket. With multi-value headers enabled on the
 * target group, the header is an array and the load balancer's entry ends its last value.
 * (The `preserve` or `remove` modes must not be used in front of this function.)
 * Read from the event rather than the Request: Hono's ALB adapter joins multi-value header
 * lines with "; ", while repeated field lines combine with commas (RFC 9110 §5.3), the list
 * syntax X-Forwarded-For is read with.
 */
function albClientIp(event: LambdaEventShape): string | null {
  let value: string | undefined;
  if (event.multiValueHeaders) {
    const values = eventHeader(event.multiValueHeaders, "x-forwarded-for");
    value = values?.[values.length - 1];
  } else {
    value = eventHeader(event.headers, "x-forwarded-for");
  }
  const last = value?.split(",").at(-1)?.trim();
  return last ? last : null;
}

/**
 * The client IP the AWS front door saw: API Gateway v2 / Function URL `http.sourceIp`, v1
 * `identity.sourceIp`, or for an ALB event the entry the load balancer appended to
 * X-Forwarded-For (see albClientIp).
 */
export function lambdaSourceIp(c: Context): string | null {
  const event = (c.env as { event?: LambdaEvent } | undefined)?.event as LambdaEventShape | undefined;
  const context = event?.requestContext;
  if (context?.http?.sourceIp) return context.http.sourceIp;
  if (context?.identity?.sourceIp) return context.identity.sourceIp;
  if (event && context && Object.hasOwn(context, "elb")) return albClientIp(event);
  return null;
}

/** Turns a Lambda environment into the app's dependencies (once per warm container). */
export function lambdaDeps(env: Record<string, string | undefined>): AppDeps {
  if (!env.DATABASE_URL) throw new Error("DATABASE_URL is required on Lambda");
  const config = loadConfig(env);
  // One pool per warm container, reused across invocations, of one connection: a container
  // serves one event at a time, and every concurrent event is another container with its own
  // pool, so more would only multiply idle connections against max_connections (DATABASE_POOL_MAX
  // is the Node entry's). The driver: as on Node (plain TCP `pg` unless a Neon host).
  const openDatabase = databaseOpener(env.DATABASE_URL, {
    perRequest: false,
    maxConnections: 1,
    ...(config.database.driver ? { driver: config.database.driver } : {}),
    ...(env.DATABASE_AUTH_TOKEN ? { authToken: env.DATABASE_AUTH_TOKEN } : {}),
  });
  return {
    config,
    database: openDatabase,
    rateLimiter: rateLimiterFactory(config),
    clientIp: lambdaSourceIp,
  };
}

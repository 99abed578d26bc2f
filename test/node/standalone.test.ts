/**
 * A per-route function deploys alone from the same code: the usage Worker
 * (functions/standalone/usage.ts, wrangler.usage.toml) serves its module with the full pipeline
 * and answers every other route 404, over the database the main API writes, accepting the
 * sessions the main API issued. Its Lambda variant answers the same way.
 */
import { randomBytes } from "node:crypto";
import type { LambdaEvent } from "hono/aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import usageWorker from "../../functions/standalone/usage";
import { handler as usageLambda } from "../../functions/standalone/usage-lambda";
import { type Backend, openNodeBackend, PG_HOST, PG_PORT } from "../support/backends";
import { type SignedUp, signUp } from "../support/fixtures";
import { type Harness, makeHarness } from "../support/harness";
import { type NeonHttpStandin, startNeonHttpStandin } from "../support/neon-http-standin";

// Postgres: on Workers DATABASE_URL is Neon, reached over Neon's SQL-over-HTTP protocol (here
// the test stand-in, DATABASE_HTTP_ENDPOINT); the Lambda handler reaches the same database over
// plain TCP.
const env = {
  APP_ENV: "test",
  DATABASE_URL: "",
  DATABASE_HTTP_ENDPOINT: "",
  IP_HASH_KEY: randomBytes(32).toString("base64"),
  ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
  RATE_LIMIT_STORE: "sql",
};
const ctx = {
  waitUntil: () => {},
  passThroughOnException: () => {},
  props: {},
} as unknown as ExecutionContext;

// biome-ignore lint/suspicious/noExplicitAny: response bodies of many shapes.
type Body = any;

async function usage(
  method: string,
  path: string,
  opts: { token?: string; json?: unknown } = {},
): Promise<{ status: number; headers: Headers; body: Body }> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.json !== undefined) headers["content-type"] = "application/json";
  const request = new Request(`https://api.example.test${path}`, {
    method,
    headers,
    ...(opts.json !== undefined ? { body: JSON.stringify(opts.json) } : {}),
  });
  // A plain Request: Cloudflare's edge would add `cf` properties the app never reads.
  const res = await usageWorker.fetch(request as Parameters<typeof usageWorker.fetch>[0], env, ctx);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

let backend: Backend;
let standin: NeonHttpStandin;
let main: Harness;
let user: SignedUp;

// The Worker logs one JSON line per request; keep the test output readable.
vi.spyOn(console, "log").mockImplementation(() => {});

beforeAll(async () => {
  backend = await openNodeBackend("postgres");
  env.DATABASE_URL = backend.url ?? "";
  standin = await startNeonHttpStandin({ host: PG_HOST, port: PG_PORT });
  env.DATABASE_HTTP_ENDPOINT = `${standin.url}/sql`;
  // The main API, on the same database with the same secrets, issues the session.
  main = makeHarness({ backend: "postgres", open: backend.open, env });
  user = await signUp(main);
});
afterAll(async () => {
  await standin?.close();
  await backend.close();
});

describe("usage Worker (functions/standalone/usage.ts)", () => {
  it("serves its route with a session the main API issued", async () => {
    const add = await usage("POST", "/v1/usage", {
      token: user.token,
      json: { feature: "exports", quantity: 3 },
    });
    expect(add.status, JSON.stringify(add.body)).toBe(200);
    expect(add.body.counter).toMatchObject({ feature: "exports", total: 3, period: "day" });
    expect(add.headers.get("x-request-id")).toBeTruthy();
    expect(add.headers.get("x-content-type-options")).toBe("nosniff");
    const series = await usage("GET", "/v1/usage?feature=exports", { token: user.token });
    expect(series.status).toBe(200);
    expect(series.body.total).toBe(3);
  });

  it("runs the same pipeline: 401 without a session, 400 problem documents, health checks", async () => {
    const anon = await usage("POST", "/v1/usage", { json: { feature: "exports", quantity: 1 } });
    expect(anon.status).toBe(401);
    expect(anon.headers.get("content-type")).toBe("application/problem+json");
    const bad = await usage("POST", "/v1/usage", { token: user.token, json: { feature: "x", quantity: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe("quantity");
    expect((await usage("GET", "/readyz")).body.checks).toEqual({ database: "ok", rateLimitStore: "ok" });
  });

  it("answers every other module's routes 404, and a wrong method on its own 405", async () => {
    for (const [method, path] of [
      ["POST", "/v1/auth/register"],
      ["POST", "/v1/auth/login"],
      ["GET", "/v1/me"],
      ["GET", "/v1/consents"],
      ["GET", "/v1/security-events"],
      ["GET", `/v1/tenants/${crypto.randomUUID()}/security-events`],
      ["GET", "/v1/dev/outbox?to=a@example.test"],
    ] as const) {
      const res = await usage(method, path, { token: user.token });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.code).toBe("not_found");
    }
    const wrong = await usage("DELETE", "/v1/usage", { token: user.token });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST, GET");
  });

  it("documents only what it serves", async () => {
    const doc = await usage("GET", "/openapi.json");
    expect(Object.keys(doc.body.paths).sort()).toEqual(["/healthz", "/readyz", "/v1/usage"]);
  });
});

describe("usage Lambda handler (functions/standalone/usage-lambda.ts)", () => {
  const saved = new Map<string, string | undefined>();
  beforeAll(() => {
    for (const [k, v] of Object.entries(env)) {
      saved.set(k, process.env[k]);
      process.env[k] = v;
    }
  });
  afterAll(() => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const event = (method: string, path: string, token: string): LambdaEvent =>
    ({
      version: "2.0",
      routeKey: "$default",
      rawPath: path,
      rawQueryString: "",
      headers: { host: "abc123.execute-api.eu-west-1.amazonaws.com", authorization: `Bearer ${token}` },
      requestContext: {
        domainName: "abc123.execute-api.eu-west-1.amazonaws.com",
        http: { method, path, protocol: "HTTP/1.1", sourceIp: "203.0.113.9", userAgent: "test" },
        requestId: "abc=",
        routeKey: "$default",
        stage: "$default",
      },
      body: null,
      isBase64Encoded: false,
    }) as unknown as LambdaEvent;

  it("serves the usage series and answers other routes 404", async () => {
    const series = await usageLambda(event("GET", "/v1/usage", user.token));
    expect(series.statusCode).toBe(200);
    expect(JSON.parse(series.body).total).toBeGreaterThanOrEqual(3);
    const me = await usageLambda(event("GET", "/v1/me", user.token));
    expect(me.statusCode).toBe(404);
  });
});

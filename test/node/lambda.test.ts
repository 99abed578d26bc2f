/**
 * The AWS Lambda entry driven the way AWS drives it: API Gateway HTTP API (payload 2.0) events,
 * REST API (payload 1.0) events and Application Load Balancer events (single- and multi-value
 * headers), as JSON objects shaped like the ones AWS sends, through
 * the exported handler, over a real database: a migrated libSQL file and, when Postgres is up,
 * Postgres through the Neon driver (WebSocket relay, see test/support/backends.ts) and through
 * pg over plain TCP (a local host picks it, as an RDS one would).
 */
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import type { LambdaEvent } from "hono/aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { libsqlDatabase } from "../../db/dialect";
import { migrateDatabase } from "../../db/migrate";
import { createLambdaHandler, handler as deployedHandler } from "../../functions/lambda";
import { createKeyedHasher } from "../../functions/lib/keyed-hash";
import { type Backend, openNodeBackend, PG_HOST, PG_PORT, tcpReachable } from "../support/backends";
import { PASSWORD, uniqueEmail } from "../support/fixtures";
import { skipWithout } from "../support/services";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const USER_AGENT = "lambda-test/1.0 (+https://example.test)";
const postgresUp = await tcpReachable(PG_HOST, PG_PORT);

interface Req {
  method?: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  json?: unknown;
  /** Send the JSON body base64-encoded with `isBase64Encoded: true` (binary media types, some proxies). */
  base64?: boolean;
  sourceIp?: string;
}

function bodyOf(req: Req): {
  body: string | null;
  isBase64Encoded: boolean;
  headers: Record<string, string>;
} {
  if (req.json === undefined) return { body: null, isBase64Encoded: false, headers: {} };
  const text = JSON.stringify(req.json);
  return {
    body: req.base64 ? Buffer.from(text).toString("base64") : text,
    isBase64Encoded: req.base64 === true,
    headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) },
  };
}

/** An API Gateway HTTP API event, payload format 2.0 (lower-case headers, rawPath, requestContext.http). */
function v2Event(req: Req): LambdaEvent {
  const method = req.method ?? "GET";
  const sourceIp = req.sourceIp ?? "203.0.113.10";
  const now = Date.now();
  const body = bodyOf(req);
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: req.path,
    rawQueryString: req.query ?? "",
    headers: {
      accept: "application/json",
      host: "abc123def4.execute-api.eu-west-1.amazonaws.com",
      "user-agent": USER_AGENT,
      "x-amzn-trace-id": "Root=1-67891233-abcdef012345678912345678",
      "x-forwarded-for": sourceIp,
      "x-forwarded-port": "443",
      "x-forwarded-proto": "https",
      ...body.headers,
      ...req.headers,
    },
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123def4",
      authentication: null,
      authorizer: {},
      domainName: "abc123def4.execute-api.eu-west-1.amazonaws.com",
      domainPrefix: "abc123def4",
      http: { method, path: req.path, protocol: "HTTP/1.1", sourceIp, userAgent: USER_AGENT },
      requestId: `${randomBytes(6).toString("base64url")}=`,
      routeKey: "$default",
      stage: "$default",
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body: body.body,
    isBase64Encoded: body.isBase64Encoded,
  };
}

/** An API Gateway REST API proxy event, payload format 1.0 (stage `prod`, identity.sourceIp). */
function v1Event(req: Req): LambdaEvent {
  const method = req.method ?? "GET";
  const sourceIp = req.sourceIp ?? "203.0.113.11";
  const body = bodyOf(req);
  const headers: Record<string, string> = {
    Accept: "application/json",
    Host: "abc123def4.execute-api.eu-west-1.amazonaws.com",
    "User-Agent": USER_AGENT,
    "X-Forwarded-For": sourceIp,
    "X-Forwarded-Port": "443",
    "X-Forwarded-Proto": "https",
    ...body.headers,
    ...req.headers,
  };
  return {
    version: "1.0",
    resource: "/{proxy+}",
    path: req.path,
    httpMethod: method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: undefined,
    multiValueQueryStringParameters: undefined,
    pathParameters: { proxy: req.path.slice(1) },
    stageVariables: undefined,
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123def4",
      authorizer: {},
      domainName: "abc123def4.execute-api.eu-west-1.amazonaws.com",
      domainPrefix: "abc123def4",
      extendedRequestId: "BQGojGkyjoEFsTw=",
      httpMethod: method,
      identity: { sourceIp, userAgent: USER_AGENT } as never,
      path: `/prod${req.path}`,
      protocol: "HTTP/1.1",
      requestId: crypto.randomUUID(),
      requestTime: "27/Nov/2026:14:00:00 +0000",
      requestTimeEpoch: Date.now(),
      resourceId: "abcdef",
      resourcePath: "/{proxy+}",
      stage: "prod",
    },
    body: body.body,
    isBase64Encoded: body.isBase64Encoded,
  } as LambdaEvent;
}

/**
 * An Application Load Balancer event (target group with a Lambda target), as AWS documents it
 * ("Using Lambda with an Application Load Balancer"): `requestContext` is only `elb`, there is
 * no source IP field, and the client address is the last X-Forwarded-For entry, which the load
 * balancer appended. `xff` is the header as it reaches Lambda (client-sent entries, then the
 * load balancer's). With `multiValue` (the target group's multi-value headers setting) the event
 * carries `multiValueHeaders`/`multiValueQueryStringParameters` instead of `headers`/
 * `queryStringParameters`, and `xff` may be several header lines.
 */
function albEvent(req: Req & { xff: string | string[]; multiValue?: boolean }): LambdaEvent {
  const body = bodyOf(req);
  const headers: Record<string, string | string[]> = {
    accept: "application/json",
    "accept-encoding": "gzip",
    connection: "keep-alive",
    host: "lambda-alb-123578498.eu-west-1.elb.amazonaws.com",
    "user-agent": USER_AGENT,
    "x-amzn-trace-id": "Root=1-5c536348-3d683b8b04734faae651f476",
    "x-forwarded-for": req.xff,
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
    ...body.headers,
    ...req.headers,
  };
  const common = {
    requestContext: {
      elb: {
        targetGroupArn:
          "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/lambda-279XGJDqGZ5rsrHC2Fjr/49e9d65c45c6791a",
      },
    },
    httpMethod: req.method ?? "GET",
    path: req.path,
    // ALB sends an empty string, not null, when there is no body.
    body: body.body ?? "",
    isBase64Encoded: body.isBase64Encoded,
  };
  if (req.multiValue) {
    return {
      ...common,
      multiValueQueryStringParameters: {},
      multiValueHeaders: Object.fromEntries(
        Object.entries(headers).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]),
      ),
    } as unknown as LambdaEvent;
  }
  if (Array.isArray(req.xff)) throw new Error("several X-Forwarded-For lines need multiValue");
  return { ...common, queryStringParameters: {}, headers } as unknown as LambdaEvent;
}

type Handler = ReturnType<typeof createLambdaHandler>;

/** Sends an event; returns status, lower-cased headers and the parsed JSON body. */
async function invoke(handler: Handler, event: LambdaEvent) {
  const res = await handler(event);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers ?? {})) headers[k.toLowerCase()] = String(v);
  for (const [k, v] of Object.entries(res.multiValueHeaders ?? {})) {
    headers[k.toLowerCase()] = (v as string[]).join(", ");
  }
  const text = res.isBase64Encoded ? Buffer.from(res.body, "base64").toString("utf8") : res.body;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies of many shapes.
  const body: any = text ? JSON.parse(text) : null;
  return { status: res.statusCode, headers, body, isBase64Encoded: res.isBase64Encoded };
}

function secrets() {
  return {
    APP_ENV: "test",
    IP_HASH_KEY: randomBytes(32).toString("base64"),
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
    RATE_LIMIT_STORE: "sql",
  };
}

function lambdaSuite(
  handler: () => Handler,
  ipHashKey: () => string,
  /** A handler over the same database with extra environment (e.g. a small rate limit). */
  handlerWith: (extra: Record<string, string>) => Handler,
): void {
  it("answers /healthz with JSON (not base64) and a fresh request id", async () => {
    const res = await invoke(handler(), v2Event({ path: "/healthz" }));
    expect(res.status).toBe(200);
    expect(res.isBase64Encoded).toBe(false);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.body).toEqual({ status: "ok" });
    expect(res.headers["x-request-id"]).toMatch(UUID);
  });

  it("keeps a well-formed X-Request-Id and reports readiness", async () => {
    const res = await invoke(
      handler(),
      v2Event({ path: "/readyz", headers: { "x-request-id": "apigw.req-42" } }),
    );
    expect(res.status).toBe(200);
    expect(res.headers["x-request-id"]).toBe("apigw.req-42");
    expect(res.body.checks).toEqual({ database: "ok", rateLimitStore: "ok" });
  });

  it("registers and logs in with plain and base64-encoded JSON bodies, then reads /v1/me", async () => {
    const email = uniqueEmail("lambda");
    const reg = await invoke(
      handler(),
      v2Event({ method: "POST", path: "/v1/auth/register", json: { email, password: PASSWORD } }),
    );
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const login = await invoke(
      handler(),
      v2Event({ method: "POST", path: "/v1/auth/login", json: { email, password: PASSWORD }, base64: true }),
    );
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    expect(login.body.status).toBe("authenticated");
    const me = await invoke(
      handler(),
      v2Event({ path: "/v1/me", headers: { authorization: `Bearer ${login.body.session.token}` } }),
    );
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ id: reg.body.user.id, email });
  });

  it("hashes the API Gateway source IP (v2 and v1) into security events, ignoring X-Forwarded-For", async () => {
    const hash = createKeyedHasher(ipHashKey(), "ip");
    const hashUserAgent = createKeyedHasher(ipHashKey(), "user-agent");
    const email = uniqueEmail("lambda-ip");
    const v2Ip = "198.51.100.77";
    const v1Ip = "2001:db8::7";
    const reg = await invoke(
      handler(),
      v2Event({
        method: "POST",
        path: "/v1/auth/register",
        json: { email, password: PASSWORD },
        sourceIp: v2Ip,
        // A client-supplied hop in front of API Gateway's own entry: never trusted by default.
        headers: { "x-forwarded-for": `192.0.2.66, ${v2Ip}` },
      }),
    );
    expect(reg.status).toBe(201);
    const failed = await invoke(
      handler(),
      v1Event({
        method: "POST",
        path: "/v1/auth/login",
        json: { email, password: "wrong password!" },
        sourceIp: v1Ip,
      }),
    );
    expect(failed.status).toBe(401);
    expect(failed.body.code).toBe("invalid_credentials");
    expect(failed.headers["content-type"]).toBe("application/problem+json");

    const login = await invoke(
      handler(),
      v2Event({
        method: "POST",
        path: "/v1/auth/login",
        json: { email, password: PASSWORD },
        sourceIp: v2Ip,
      }),
    );
    const events = await invoke(
      handler(),
      v2Event({
        path: "/v1/security-events",
        headers: { authorization: `Bearer ${login.body.session.token}` },
      }),
    );
    expect(events.status).toBe(200);
    const byType = (type: string) => events.body.events.find((e: { type: string }) => e.type === type);
    expect(byType("user.registered")).toMatchObject({
      ipHash: await hash(v2Ip),
      userAgentHash: await hashUserAgent(USER_AGENT),
      requestId: reg.headers["x-request-id"],
    });
    expect(byType("auth.login_failed").ipHash).toBe(await hash(v1Ip));
    expect(JSON.stringify(events.body)).not.toContain(await hash("192.0.2.66"));
  });

  it("answers unknown routes 404 and wrong methods 405 as problem documents (v2 and v1)", async () => {
    for (const make of [v2Event, v1Event]) {
      const missing = await invoke(handler(), make({ path: "/v1/nope" }));
      expect(missing.status).toBe(404);
      expect(missing.headers["content-type"]).toBe("application/problem+json");
      expect(missing.body).toMatchObject({ code: "not_found", status: 404 });
      expect(missing.body.requestId).toBe(missing.headers["x-request-id"]);
      const wrong = await invoke(handler(), make({ method: "DELETE", path: "/healthz" }));
      expect(wrong.status).toBe(405);
      expect(wrong.body.code).toBe("method_not_allowed");
      expect(wrong.headers.allow).toContain("GET");
    }
  });

  it("answers a REST API (payload 1.0) /healthz with multi-value headers", async () => {
    const res = await invoke(handler(), v1Event({ path: "/healthz" }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
    expect(res.headers["x-request-id"]).toMatch(UUID);
  });

  it("answers ALB events (single-value and multi-value headers)", async () => {
    for (const multiValue of [false, true]) {
      const res = await invoke(handler(), albEvent({ path: "/healthz", xff: "203.0.113.30", multiValue }));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: "ok" });
      expect(res.headers["x-request-id"]).toMatch(UUID);
    }
  });

  it("rate-limits ALB clients by the X-Forwarded-For entry the load balancer appended, not by forged ones", async () => {
    // Two failed logins per network per 15 minutes; each attempt uses a fresh email, so only the
    // per-network rule can refuse.
    const limited = handlerWith({ RATE_LIMIT_PASSWORD_PER_NETWORK: "2/900" });
    const clientA = "198.51.100.21";
    const clientB = "198.51.100.22";
    const fail = (xff: string | string[], multiValue = false) =>
      invoke(
        limited,
        albEvent({
          method: "POST",
          path: "/v1/auth/login",
          json: { email: uniqueEmail("alb-rl"), password: "wrong password!" },
          xff,
          multiValue,
        }),
      );
    expect((await fail(clientA)).status).toBe(401);
    expect((await fail(clientA, true)).status).toBe(401);
    const third = await fail(clientA);
    expect(third.status).toBe(429);
    expect(third.body.code).toBe("rate_limited");
    // Client A forging other addresses to the left (one line, or an extra header line) stays limited.
    expect((await fail(`192.0.2.99, ${clientB}, ${clientA}`)).status).toBe(429);
    expect((await fail(["192.0.2.98", `203.0.113.77, ${clientA}`], true)).status).toBe(429);
    // Client B has its own bucket, even when it forges A's address on the left.
    expect((await fail(`${clientA}, ${clientB}`)).status).toBe(401);
    expect((await fail([clientA, clientB], true)).status).toBe(401);
  });

  it("hashes the ALB client IP (last X-Forwarded-For entry) into security events", async () => {
    const hash = createKeyedHasher(ipHashKey(), "ip");
    const email = uniqueEmail("alb-ip");
    const clientIp = "198.51.100.88";
    const reg = await invoke(
      handler(),
      albEvent({
        method: "POST",
        path: "/v1/auth/register",
        json: { email, password: PASSWORD },
        xff: `192.0.2.66, ${clientIp}`,
      }),
    );
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const login = await invoke(
      handler(),
      albEvent({
        method: "POST",
        path: "/v1/auth/login",
        json: { email, password: PASSWORD },
        xff: ["192.0.2.66", clientIp],
        multiValue: true,
      }),
    );
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    const events = await invoke(
      handler(),
      albEvent({
        path: "/v1/security-events",
        headers: { authorization: `Bearer ${login.body.session.token}` },
        xff: clientIp,
      }),
    );
    expect(events.status).toBe(200);
    const byType = (type: string) => events.body.events.find((e: { type: string }) => e.type === type);
    expect(byType("user.registered").ipHash).not.toBeNull();
    expect(byType("user.registered")).toMatchObject({
      ipHash: await hash(clientIp),
      requestId: reg.headers["x-request-id"],
    });
    // Multi-value headers mode (the login): the last entry of the last header line.
    expect(byType("auth.login_succeeded").ipHash).toBe(await hash(clientIp));
    expect(JSON.stringify(events.body)).not.toContain(await hash("192.0.2.66"));
  });
}

// The Lambda entry logs one JSON line per request to stdout (CloudWatch); keep test output clean.
const logSpy = vi.spyOn(console, "log").mockImplementation(() => {});
afterAll(() => {
  const lines = logSpy.mock.calls.map((args: unknown[]) => String(args[0])).join("\n");
  logSpy.mockRestore();
  // Nothing the client is identified by may reach the logs.
  for (const ip of ["198.51.100.77", "2001:db8::7", "192.0.2.66", "198.51.100.21", "198.51.100.88"]) {
    expect(lines).not.toContain(ip);
  }
});

describe("[libsql] Lambda handler", () => {
  const file = join(tmpdir(), `udh-lambda-${crypto.randomUUID()}.db`);
  const env = { ...secrets(), DATABASE_URL: `file:${file}` };
  let handler: Handler;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    const client = createClient({ url: env.DATABASE_URL });
    await migrateDatabase(libsqlDatabase(client));
    client.close();
    handler = createLambdaHandler(env);
  });
  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
  });

  lambdaSuite(
    () => handler,
    () => env.IP_HASH_KEY,
    (extra) => createLambdaHandler({ ...env, ...extra }),
  );

  it("the exported `handler` builds the app from process.env on its first event", async () => {
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    const res = await invoke(deployedHandler, v2Event({ path: "/readyz" }));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("ok");
  });
});

describe.skipIf(skipWithout("Postgres", postgresUp))("[postgres] Lambda handler (Neon driver)", () => {
  const env = secrets();
  let backend: Backend;
  let handler: Handler;

  beforeAll(async () => {
    // Creates and migrates a scratch database and points the Neon driver at the relay.
    backend = await openNodeBackend("postgres");
    // A local host would pick pg: this run is the Neon driver's.
    handler = createLambdaHandler({ ...env, DATABASE_URL: backend.url, DATABASE_DRIVER: "neon" });
  });
  afterAll(async () => {
    await backend?.close();
  });

  lambdaSuite(
    () => handler,
    () => env.IP_HASH_KEY,
    (extra) => createLambdaHandler({ ...env, ...extra, DATABASE_URL: backend.url, DATABASE_DRIVER: "neon" }),
  );
});

describe.skipIf(skipWithout("Postgres", postgresUp))("[postgres-pg] Lambda handler (pg driver)", () => {
  const env = secrets();
  let backend: Backend;
  let handler: Handler;

  beforeAll(async () => {
    // A scratch database reached over plain TCP: DATABASE_DRIVER unset, the local host picks pg.
    backend = await openNodeBackend("postgres-pg");
    handler = createLambdaHandler({ ...env, DATABASE_URL: backend.url });
  });
  afterAll(async () => {
    await backend?.close();
  });

  lambdaSuite(
    () => handler,
    () => env.IP_HASH_KEY,
    (extra) => createLambdaHandler({ ...env, ...extra, DATABASE_URL: backend.url }),
  );
});

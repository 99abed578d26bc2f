/**
 * Where the outbox work runs: the request-context middleware's after-response tasks (after the
 * answer, in waitUntil when the platform has one, else in the background; the database closed
 * after them; failures logged by name), and the Lambda entry: a request's message sent in the
 * background after its answer, and the EventBridge `scheduled` handler's periodic pass. The
 * transports are test doubles of the MailTransport interface.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import type { LambdaEvent } from "hono/aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Database } from "../../db/database";
import { libsqlDatabase } from "../../db/dialect";
import { migrateDatabase } from "../../db/migrate";
import { loadConfig } from "../../functions/config";
import type { AppDeps, AppEnv, Vault } from "../../functions/context";
import { createLambdaHandler, createLambdaScheduledHandler } from "../../functions/lambda";
import { createKeyedHasher } from "../../functions/lib/keyed-hash";
import { createSecretBox, parseKeyring } from "../../functions/lib/secret-box";
import { MailDeliveryError, type MailMessage, type MailTransport } from "../../functions/mail/types";
import { requestContext } from "../../functions/middleware/request-context";
import type { RateLimiter } from "../../functions/ratelimit/types";

const PASSWORD = "correct horse battery staple";

function recordingTransport() {
  const sent: MailMessage[] = [];
  const transport: MailTransport = {
    name: "recording",
    async send(message) {
      sent.push(message);
    },
  };
  return { transport, sent };
}

describe("after-response tasks (request-context middleware)", () => {
  function setup() {
    const config = loadConfig({
      IP_HASH_KEY: randomBytes(32).toString("base64"),
      ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
    });
    const vault: Vault = {
      hash: {
        ip: createKeyedHasher(config.ipHashKey, "ip"),
        userAgent: createKeyedHasher(config.ipHashKey, "user-agent"),
        limitKey: createKeyedHasher(config.ipHashKey, "rate-limit"),
      },
      box: createSecretBox(parseKeyring(config.encryptionKeys)),
    };
    const events: string[] = [];
    const db = {
      stats: { statements: 0 },
      close: vi.fn(async () => {
        events.push("close");
      }),
    };
    const lines: Record<string, unknown>[] = [];
    const deferred: Promise<void>[] = [];
    const deps: AppDeps = {
      config,
      database: () => db as unknown as Database,
      rateLimiter: () => ({}) as RateLimiter,
      clientIp: () => "203.0.113.9",
      log: (line) => lines.push(line),
      defer: (work) => {
        deferred.push(work);
      },
    };
    const app = new Hono<AppEnv>().use(requestContext(deps, vault));
    return { app, db, events, lines, deferred };
  }

  it("runs a task after the answer, without delaying it, then closes the database", async () => {
    const { app, db, events, deferred } = setup();
    let release!: () => void;
    app.get("/", (c) => {
      c.var.scope.afterResponse(async () => {
        events.push("task started");
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        events.push("task done");
      });
      return c.text("ok");
    });
    const res = await app.request("/");
    // The answer is complete while the task still waits.
    expect(await res.text()).toBe("ok");
    expect(events).toEqual(["task started"]);
    expect(db.close).not.toHaveBeenCalled();
    expect(deferred).toHaveLength(1);
    release();
    await deferred[0];
    expect(events).toEqual(["task started", "task done", "close"]);
  });

  it("hands the work to waitUntil when the platform has an ExecutionContext", async () => {
    const { app, events, deferred } = setup();
    app.get("/", (c) => {
      c.var.scope.afterResponse(async () => {
        events.push("task");
      });
      return c.text("ok");
    });
    const waitUntil = vi.fn();
    const ctx = { waitUntil, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;
    expect((await app.request("/", {}, {}, ctx)).status).toBe(200);
    expect(waitUntil).toHaveBeenCalledTimes(1);
    expect(deferred).toEqual([]);
    await waitUntil.mock.calls[0]![0];
    expect(events).toEqual(["task", "close"]);
  });

  it("logs a failed task by its error name only; later tasks still run, the database still closes", async () => {
    const { app, events, lines, deferred } = setup();
    app.get("/", (c) => {
      c.var.scope.afterResponse(async () => {
        throw new RangeError("could not reach ann@example.test");
      });
      c.var.scope.afterResponse(async () => {
        events.push("second task");
      });
      return c.text("ok");
    });
    const res = await app.request("/", { headers: { "x-request-id": "r-42" } });
    expect(res.status).toBe(200);
    await Promise.all(deferred);
    expect(events).toEqual(["second task", "close"]);
    expect(lines).toContainEqual({
      level: "error",
      msg: "after-response task failed",
      requestId: "r-42",
      error: "RangeError",
    });
    expect(JSON.stringify(lines)).not.toContain("ann@example.test");
  });

  it("closes the database before answering when there is no task (as before)", async () => {
    const { app, db, deferred } = setup();
    app.get("/", (c) => c.text("ok"));
    await app.request("/");
    expect(db.close).toHaveBeenCalledTimes(1);
    expect(deferred).toEqual([]);
  });
});

describe("[libsql] Lambda entry", () => {
  const file = join(tmpdir(), `udh-outbox-lambda-${crypto.randomUUID()}.db`);
  const env = {
    APP_ENV: "test",
    IP_HASH_KEY: randomBytes(32).toString("base64"),
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
    RATE_LIMIT_STORE: "sql",
    DATABASE_URL: `file:${file}`,
  };

  beforeAll(async () => {
    const client = createClient({ url: env.DATABASE_URL });
    await migrateDatabase(libsqlDatabase(client));
    client.close();
  });
  afterAll(() => {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
  });

  /** An API Gateway HTTP API (payload 2.0) POST event with a JSON body. */
  function post(path: string, json: unknown): LambdaEvent {
    const body = JSON.stringify(json);
    return {
      version: "2.0",
      routeKey: "$default",
      rawPath: path,
      rawQueryString: "",
      headers: { "content-type": "application/json", host: "api.example.test" },
      requestContext: {
        accountId: "123456789012",
        apiId: "abc123def4",
        domainName: "api.example.test",
        domainPrefix: "api",
        http: { method: "POST", path, protocol: "HTTP/1.1", sourceIp: "203.0.113.10", userAgent: "test" },
        requestId: crypto.randomUUID(),
        routeKey: "$default",
        stage: "$default",
        time: new Date().toUTCString(),
        timeEpoch: Date.now(),
      },
      body,
      isBase64Encoded: false,
    } as unknown as LambdaEvent;
  }

  async function outboxRow(email: string) {
    const client = createClient({ url: env.DATABASE_URL });
    try {
      const { db, t } = libsqlDatabase(client);
      const [row] = await db.select().from(t.outboxMessages).where(eq(t.outboxMessages.recipient, email));
      return row;
    } finally {
      client.close();
    }
  }

  it("sends a request's message in the background after the answer", async () => {
    const { transport, sent } = recordingTransport();
    const deferred: Promise<void>[] = [];
    const handler = createLambdaHandler(env, {
      mailTransport: () => transport,
      defer: (work) => {
        deferred.push(work);
      },
    });
    const email = `lambda-${crypto.randomUUID()}@example.test`;
    expect((await handler(post("/v1/auth/register", { email, password: PASSWORD }))).statusCode).toBe(201);
    // The registration queued its verification message, sent after that answer.
    expect(deferred).toHaveLength(1);
    await Promise.all(deferred.splice(0));
    expect((await handler(post("/v1/auth/password/forgot", { email }))).statusCode).toBe(202);
    expect(deferred).toHaveLength(1);
    await Promise.all(deferred);
    expect(sent.map((m) => m.to)).toEqual([email, email]);
    expect(sent.map((m) => m.subject)).toEqual([
      expect.stringMatching(/confirm your email/i),
      expect.stringMatching(/reset/i),
    ]);
    expect(await outboxRow(email)).toMatchObject({ status: "sent", attempts: 1 });
  });

  it("exports a scheduled handler (EventBridge) whose pass sends what is due and sweeps", async () => {
    // The provider refuses for now: the message waits, pending, for its retry.
    const deferred: Promise<void>[] = [];
    const down = createLambdaHandler(env, {
      mailTransport: () => ({
        name: "down",
        send: async () => {
          throw new MailDeliveryError("provider_503", true);
        },
      }),
      defer: (work) => {
        deferred.push(work);
      },
    });
    const email = `lambda-cron-${crypto.randomUUID()}@example.test`;
    await down(post("/v1/auth/register", { email, password: PASSWORD }));
    await down(post("/v1/auth/password/forgot", { email }));
    await Promise.all(deferred);
    const waiting = await outboxRow(email);
    expect(waiting).toMatchObject({ status: "pending", attempts: 1, lastError: "provider_503" });

    const { transport, sent } = recordingTransport();
    const scheduled = createLambdaScheduledHandler(env, { mailTransport: () => transport });
    const early = await scheduled({ "detail-type": "Scheduled Event", time: new Date().toISOString() });
    expect(early.sweep).toEqual(expect.objectContaining({ outboxMessages: expect.any(Number) }));
    expect(sent).toEqual([]);

    // A pass after the retry is due (the row's time moved back instead of the clock forward).
    const client = createClient({ url: env.DATABASE_URL });
    const { db, t } = libsqlDatabase(client);
    await db
      .update(t.outboxMessages)
      .set({ nextAttemptAt: new Date(Date.now() - 1) })
      .where(eq(t.outboxMessages.id, waiting!.id));
    client.close();
    const due = await scheduled({ "detail-type": "Scheduled Event" });
    expect(due.outbox).toEqual({ sent: 1, retried: 0, failed: 0 });
    expect(sent.map((m) => m.to)).toEqual([email]);
    expect(await outboxRow(email)).toMatchObject({ status: "sent", attempts: 2 });
  });
});

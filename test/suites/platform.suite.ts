/** Platform behaviour every backend must show: service endpoints, request ids, problems, routing. */
import { eq } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import { expect, it } from "vitest";
import { createSqlRateLimiter } from "../../functions/ratelimit/sql";
import { RateLimitUnavailableError } from "../../functions/ratelimit/types";
import { api, call, expectStatus, type Harness, makeHarness } from "../support/harness";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function platformSuite(h: () => Harness): void {
  it("leaves exactly one row after 100 concurrent upserts of one global key (no tenant)", async () => {
    const { db, t } = h().open();
    const userId = uuidv7();
    const now = new Date();
    await db.insert(t.users).values({
      id: userId,
      email: `${userId}@example.test`,
      passwordHash: "$scrypt$unused",
      createdAt: now,
      updatedAt: now,
    });
    const p = t.userNotificationPreferences;
    // Each upsert on its own handle, as concurrent requests would be, closed after it as a
    // request's is (on a Worker's WebSocket path each handle is a connection of its own).
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const conn = h().open();
        try {
          return await conn.db
            .insert(p)
            .values({
              id: uuidv7(),
              userId,
              tenantId: null,
              scopeId: "",
              channel: "email",
              category: "news",
              enabled: i % 2 === 0,
              createdAt: now,
              updatedAt: now,
            })
            .onConflictDoUpdate({
              target: [p.userId, p.scopeId, p.channel, p.category],
              set: { enabled: i % 2 === 0, updatedAt: now },
            })
            .returning({ id: p.id });
        } finally {
          await conn.close();
        }
      }),
    );
    const rows = await db.select().from(p).where(eq(p.userId, userId));
    expect(rows).toHaveLength(1);
  });

  it("answers /healthz with a fresh request id", async () => {
    const res = await api(h()).healthz.$get();
    expect(await expectStatus(res, 200)).toEqual({ status: "ok" });
    expect(res.headers.get("x-request-id")).toMatch(UUID);
  });

  it("keeps a well-formed X-Request-Id and replaces a malformed one", async () => {
    const kept = await api(h()).healthz.$get(undefined, { headers: { "x-request-id": "abc.DEF_1:2-3" } });
    expect(kept.headers.get("x-request-id")).toBe("abc.DEF_1:2-3");
    for (const bad of ["has space", "x".repeat(129), "semi;colon", "ünïcode"]) {
      const res = await api(h()).healthz.$get(undefined, {
        headers: { "x-request-id": encodeURI(bad) === bad ? bad : "a/b" },
      });
      expect(res.headers.get("x-request-id")).toMatch(UUID);
    }
  });

  it("reports readiness of the database and the rate-limit store", async () => {
    const ready = await expectStatus(api(h()).readyz.$get(), 200);
    expect(ready).toEqual({ status: "ok", checks: { database: "ok", rateLimitStore: "ok" } });
  });

  it("answers /readyz 503 naming the failing check when the rate-limit store is down", async () => {
    const broken = makeHarness({
      backend: h().backend,
      open: h().open,
      rateLimiter: (db) => ({
        ...createSqlRateLimiter(db),
        ping: async () => {
          throw new RateLimitUnavailableError("down");
        },
      }),
    });
    const res = await api(broken).readyz.$get();
    const problem = await expectStatus(res, 503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(problem).toMatchObject({
      status: 503,
      code: "service_unavailable",
      checks: { database: "ok", rateLimitStore: "down" },
    });
    expect(problem.requestId).toBe(res.headers.get("x-request-id"));
  });

  it("serves an OpenAPI 3.1 document and an interactive reference page", async () => {
    // The document and the reference page are served beside the routes, not through them: no typed client.
    const doc = await call(h(), "GET", "/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.1.0");
    const contract = [
      "get /healthz",
      "get /readyz",
      "post /v1/auth/register",
      "post /v1/auth/login",
      "post /v1/auth/mfa/verify",
      "post /v1/auth/logout",
      "get /v1/auth/sessions",
      "delete /v1/auth/sessions/{id}",
      "post /v1/auth/password/forgot",
      "post /v1/auth/password/reset",
      "post /v1/auth/password/change",
      "post /v1/auth/email/verify",
      "post /v1/auth/email/verify/resend",
      "post /v1/auth/email/change",
      "post /v1/auth/email/change/confirm",
      "get /v1/me",
      "post /v1/me/export",
      "delete /v1/me",
      "post /v1/mfa/totp",
      "post /v1/mfa/totp/{factorId}/verify",
      "get /v1/mfa/factors",
      "delete /v1/mfa/factors/{factorId}",
      "post /v1/mfa/recovery-codes",
      "post /v1/mfa/webauthn/registration/options",
      "post /v1/mfa/webauthn/registration/verify",
      // Not in the contract's table: the challenge a signed-in user answers with a passkey when
      // removing a factor or regenerating recovery codes.
      "post /v1/mfa/webauthn/authentication/options",
      "post /v1/auth/mfa/webauthn/options",
      "post /v1/auth/password/reset/webauthn/options",
      "post /v1/auth/passkey/options",
      "post /v1/auth/passkey/verify",
      "get /v1/mfa/recovery-codes",
      "post /v1/tenants",
      "get /v1/tenants",
      "get /v1/tenants/{tenantId}",
      "patch /v1/tenants/{tenantId}",
      "delete /v1/tenants/{tenantId}",
      "get /v1/tenants/{tenantId}/members",
      "patch /v1/tenants/{tenantId}/members/{userId}",
      "delete /v1/tenants/{tenantId}/members/{userId}",
      "post /v1/tenants/{tenantId}/invitations",
      "get /v1/tenants/{tenantId}/invitations",
      "delete /v1/tenants/{tenantId}/invitations/{invitationId}",
      "post /v1/invitations/accept",
      "post /v1/consents",
      "get /v1/consents",
      "get /v1/consents/history",
      "get /v1/notification-preferences",
      "put /v1/notification-preferences",
      "post /v1/usage",
      "get /v1/usage",
      "get /v1/security-events",
      "get /v1/tenants/{tenantId}/security-events",
      "post /v1/tenants/{tenantId}/api-keys",
      "get /v1/tenants/{tenantId}/api-keys",
      "delete /v1/tenants/{tenantId}/api-keys/{apiKeyId}",
      "post /v1/tenants/{tenantId}/webhooks",
      "get /v1/tenants/{tenantId}/webhooks",
      "delete /v1/tenants/{tenantId}/webhooks/{webhookId}",
      "get /v1/tenants/{tenantId}/webhooks/{webhookId}/deliveries",
      "post /v1/service/introspect",
      "post /v1/service/usage",
      "get /v1/service/usage",
      "get /v1/service/users/{userId}/notification-preferences",
      "get /v1/service/users/{userId}/consents",
      "get /v1/service/security-events",
    ];
    const documented = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`),
    );
    expect(documented.sort()).toEqual([...contract].sort());
    type Operation = { responses: object; requestBody?: { content?: Record<string, { schema?: unknown }> } };
    for (const [path, ops] of Object.entries(doc.body.paths as Record<string, Record<string, Operation>>)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
        if (
          ["post", "put"].includes(method) &&
          !/\/(logout|verify\/resend|passkey\/options|authentication\/options)$/.test(path)
        ) {
          expect(op.requestBody?.content?.["application/json"]?.schema, `${method} ${path}`).toBeTruthy();
        }
      }
    }
    expect(doc.body.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    const page = await call(h(), "GET", "/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.body).toContain("/openapi.json");
  });

  it("answers unknown routes 404 and wrong methods 405 as problem documents", async () => {
    const missing = await call(h(), "GET", "/nope");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: "not_found", status: 404 });
    expect(missing.body.requestId).toBe(missing.headers.get("x-request-id"));
    const wrong = await call(h(), "DELETE", "/healthz");
    expect(wrong.status).toBe(405);
    expect(wrong.body.code).toBe("method_not_allowed");
    expect(wrong.headers.get("allow")).toContain("GET");
  });

  it("sets secure headers", async () => {
    const res = await api(h()).healthz.$get();
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("strict-transport-security")).toBeTruthy();
  });

  it("logs one JSON line per request with the request id and no client identity", async () => {
    const ua = `test-agent-${crypto.randomUUID()}`;
    const res = await api(h()).healthz.$get(undefined, {
      headers: { "user-agent": ua, "x-test-client-ip": "198.51.100.23" },
    });
    const id = res.headers.get("x-request-id");
    const line = h().logs.find((l) => l.requestId === id);
    expect(line).toMatchObject({ msg: "request", method: "GET", route: "/healthz", status: 200 });
    const all = JSON.stringify(h().logs);
    expect(all).not.toContain(ua);
    expect(all).not.toContain("198.51.100.23");
  });
}

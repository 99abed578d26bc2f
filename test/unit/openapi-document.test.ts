/**
 * The OpenAPI document's quality, read from the app itself (scripts/openapi-document.ts, the
 * document `npm run lint:openapi` lints): ids, public operations, servers, formats and limits.
 */
import { describe, expect, it } from "vitest";
import { DOCS_ASSETS } from "../../functions/http/docs-page";
import { finishOperations, HTTP_METHODS, operationIdFor } from "../../functions/http/openapi";
import { DOCS_ASSET_FILES } from "../../scripts/docs-assets.mjs";
import { buildOpenApiDocument } from "../../scripts/openapi-document";

interface Parameter {
  name: string;
  description?: string;
  schema?: Record<string, unknown>;
}

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: {
    content: { "application/json": { schema: { properties: Record<string, Record<string, unknown>> } } };
  };
}

const doc = buildOpenApiDocument() as unknown as {
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
};
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  HTTP_METHODS.flatMap((method) => (item[method] ? [{ method, path, op: item[method] as Operation }] : [])),
);
const find = (method: string, path: string) => {
  const op = doc.paths[path]?.[method];
  if (!op) throw new Error(`${method} ${path} is not in the document`);
  return op;
};
const bodyField = (method: string, path: string, field: string) =>
  find(method, path).requestBody?.content["application/json"].schema.properties[field] ?? {};
const param = (method: string, path: string, name: string): Partial<Parameter> =>
  find(method, path).parameters?.find((p) => p.name === name) ?? {};

/** The operations anyone may call: everything else needs a session. */
const PUBLIC = [
  "get /healthz",
  "get /readyz",
  "post /v1/auth/register",
  "post /v1/auth/login",
  "post /v1/auth/mfa/verify",
  "post /v1/auth/password/forgot",
  "post /v1/auth/password/reset",
  "post /v1/auth/email/verify",
  "post /v1/auth/email/change/confirm",
  "post /v1/auth/mfa/webauthn/options",
  "post /v1/auth/password/reset/webauthn/options",
  "post /v1/auth/passkey/options",
  "post /v1/auth/passkey/verify",
];

/** What an operation's `security` is: none, a tenant API key with its scope, or a session (header or cookie). */
function expectedSecurity(key: string, path: string): unknown {
  if (PUBLIC.includes(key)) return [];
  if (path.startsWith("/v1/service/")) return [{ apiKey: [expect.stringMatching(/^[a-z]+:[a-z]+$/)] }];
  return [{ bearer: [] }, { sessionCookie: [] }];
}

describe("the OpenAPI document", () => {
  it("gives every operation a unique camelCase operationId derived from its method and path", () => {
    expect(operations.length).toBeGreaterThan(30);
    const ids = operations.map(({ op }) => op.operationId);
    for (const { method, path, op } of operations) {
      expect(op.operationId, `${method} ${path}`).toBe(operationIdFor(method, path));
      expect(op.operationId).toMatch(/^[a-z]+(?:[A-Z][a-z0-9]*)+$|^[a-z]+$/);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("keeps its operationIds stable (clients generate method names from them)", () => {
    const ids = Object.fromEntries(
      operations.map(({ method, path, op }) => [`${method} ${path}`, op.operationId]),
    );
    expect(ids).toMatchObject({
      "get /healthz": "getHealthz",
      "post /v1/auth/register": "postAuthRegister",
      "delete /v1/auth/sessions/{id}": "deleteAuthSessionsById",
      "post /v1/mfa/totp/{factorId}/verify": "postMfaTotpByFactorIdVerify",
      "delete /v1/tenants/{tenantId}/members/{userId}": "deleteTenantsByTenantIdMembersByUserId",
      "get /v1/tenants/{tenantId}/security-events": "getTenantsByTenantIdSecurityEvents",
      "put /v1/notification-preferences": "putNotificationPreferences",
    });
  });

  it("marks public operations `security: []`, service ones API-key-only and every other one session-only", () => {
    for (const { method, path, op } of operations) {
      const key = `${method} ${path}`;
      expect(op.security, key).toEqual(expectedSecurity(key, path));
    }
    // Every public operation is in the document (the list above is not stale).
    for (const key of PUBLIC)
      expect(
        operations.some(({ method, path }) => `${method} ${path}` === key),
        key,
      ).toBe(true);
  });

  it("names the origin serving it as its server", () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: "/" })]);
  });

  it("states the validators' formats and bounds", () => {
    for (const [method, path, field] of [
      ["post", "/v1/auth/register", "email"],
      ["post", "/v1/auth/login", "email"],
      ["post", "/v1/auth/password/forgot", "email"],
      ["post", "/v1/auth/email/change", "newEmail"],
      ["post", "/v1/tenants/{tenantId}/invitations", "email"],
    ] as const) {
      expect(bodyField(method, path, field), `${method} ${path} ${field}`).toMatchObject({
        format: "email",
        maxLength: 254,
      });
    }
    expect(bodyField("post", "/v1/auth/register", "password")).toMatchObject({ maxLength: 4096 });
    expect(String(bodyField("post", "/v1/auth/register", "password").description)).toContain("8–128");
    expect(bodyField("post", "/v1/tenants", "name")).toMatchObject({ minLength: 1, maxLength: 100 });
    expect(bodyField("post", "/v1/usage", "quantity")).toMatchObject({ minimum: 1, maximum: 1_000_000 });
  });

  it("states every limit in a description", () => {
    expect(String(bodyField("post", "/v1/usage", "quantity").description)).toContain("1,000,000");
    expect(String(param("get", "/v1/usage", "from").description)).toContain("366 days");
    expect(String(bodyField("post", "/v1/usage", "occurredAt").description)).toContain("168 hours");
    expect(String(param("post", "/v1/usage", "idempotency-key").description)).toContain("1-255");
    for (const path of [
      "/v1/security-events",
      "/v1/consents/history",
      "/v1/tenants/{tenantId}/security-events",
    ]) {
      const limit = param("get", path, "limit");
      expect(limit.schema, path).toMatchObject({ minimum: 1, maximum: 100, default: 50 });
      expect(String(limit.description), path).toContain("1–100");
    }
  });
});

describe("finishOperations", () => {
  it("keeps an explicit operationId and refuses a duplicate", () => {
    const named = finishOperations({ paths: { "/a": { get: { operationId: "listA" } } } });
    expect(named.paths["/a"].get).toEqual({ operationId: "listA", security: [] });
    expect(() =>
      finishOperations({
        paths: { "/a": { get: { operationId: "x" } }, "/b": { get: { operationId: "x" } } },
      }),
    ).toThrow(/duplicate operationId x/);
  });
});

describe("the /docs page's assets", () => {
  it("are the files the Workers copy step publishes", () => {
    expect(Object.keys(DOCS_ASSETS).sort()).toEqual([...DOCS_ASSET_FILES].sort());
  });
});

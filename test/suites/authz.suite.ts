/**
 * One suite walks every authenticated route: no token, a garbage token, an expired and a
 * revoked session → 401; every tenant-scoped route as a non-member and with a random tenant id
 * → 403. The route table is checked against the OpenAPI document so a new route cannot be
 * forgotten here.
 */
import { expect, it } from "vitest";
import { addMember, createTenant, signUp } from "../support/fixtures";
import { api, call, expectStatus, type Harness } from "../support/harness";
import { enrollTotp } from "../support/mfa";

interface ProtectedRoute {
  method: string;
  /** OpenAPI path template. */
  path: string;
  json?: unknown;
  query?: string;
}

const ID = "01900000-0000-7000-8000-000000000000";
const TENANT = "{tenantId}";

/** Every route that needs a session, with a valid-looking request. */
export const PROTECTED_ROUTES: ProtectedRoute[] = [
  { method: "POST", path: "/v1/auth/logout" },
  { method: "GET", path: "/v1/auth/sessions" },
  { method: "DELETE", path: "/v1/auth/sessions/{id}" },
  { method: "GET", path: "/v1/me" },
  { method: "POST", path: "/v1/me/export", json: {} },
  { method: "DELETE", path: "/v1/me", json: {} },
  { method: "POST", path: "/v1/auth/email/verify/resend" },
  { method: "POST", path: "/v1/auth/email/change", json: { newEmail: "new@example.test" } },
  {
    method: "POST",
    path: "/v1/auth/password/change",
    json: { currentPassword: "correct horse battery staple", newPassword: "another fine passphrase" },
  },
  { method: "POST", path: "/v1/tenants", json: { name: "x" } },
  { method: "GET", path: "/v1/tenants" },
  { method: "GET", path: "/v1/tenants/{tenantId}" },
  { method: "PATCH", path: "/v1/tenants/{tenantId}", json: { name: "renamed" } },
  { method: "GET", path: "/v1/tenants/{tenantId}/members" },
  { method: "PATCH", path: "/v1/tenants/{tenantId}/members/{userId}", json: { role: "member" } },
  { method: "DELETE", path: "/v1/tenants/{tenantId}/members/{userId}" },
  {
    method: "POST",
    path: "/v1/tenants/{tenantId}/invitations",
    json: { email: "a@example.test", role: "member" },
  },
  { method: "GET", path: "/v1/tenants/{tenantId}/invitations" },
  { method: "DELETE", path: "/v1/tenants/{tenantId}/invitations/{invitationId}" },
  { method: "POST", path: "/v1/invitations/accept", json: { token: "not-a-live-token" } },
  { method: "DELETE", path: "/v1/tenants/{tenantId}" },
  { method: "GET", path: "/v1/security-events" },
  { method: "GET", path: "/v1/tenants/{tenantId}/security-events" },
  { method: "POST", path: "/v1/mfa/totp", json: {} },
  { method: "POST", path: "/v1/mfa/totp/{factorId}/verify", json: { code: "123456" } },
  { method: "GET", path: "/v1/mfa/factors" },
  { method: "DELETE", path: "/v1/mfa/factors/{factorId}", json: { code: "123456" } },
  { method: "POST", path: "/v1/mfa/recovery-codes", json: { code: "123456" } },
  { method: "GET", path: "/v1/mfa/recovery-codes" },
  { method: "POST", path: "/v1/mfa/webauthn/registration/options", json: {} },
  { method: "POST", path: "/v1/mfa/webauthn/registration/verify", json: { response: {} } },
  { method: "POST", path: "/v1/mfa/webauthn/authentication/options", json: {} },
  {
    method: "POST",
    path: "/v1/consents",
    json: { policy: "tos", version: "1", decision: "granted", tenantId: TENANT },
  },
  { method: "GET", path: "/v1/consents", query: `tenantId=${TENANT}` },
  { method: "GET", path: "/v1/consents/history", query: `policy=tos&tenantId=${TENANT}` },
  { method: "GET", path: "/v1/notification-preferences", query: `tenantId=${TENANT}` },
  {
    method: "PUT",
    path: "/v1/notification-preferences",
    json: { tenantId: TENANT, channel: "email", category: "news", enabled: true },
  },
  { method: "POST", path: "/v1/usage", json: { feature: "api", quantity: 1, tenantId: TENANT } },
  { method: "GET", path: "/v1/usage", query: `feature=api&tenantId=${TENANT}` },
  { method: "POST", path: "/v1/tenants/{tenantId}/api-keys", json: { name: "k", scopes: ["usage:read"] } },
  { method: "GET", path: "/v1/tenants/{tenantId}/api-keys" },
  { method: "DELETE", path: "/v1/tenants/{tenantId}/api-keys/{apiKeyId}" },
  {
    method: "POST",
    path: "/v1/tenants/{tenantId}/webhooks",
    json: { url: "https://hooks.example.com/udh", events: ["*"] },
  },
  { method: "GET", path: "/v1/tenants/{tenantId}/webhooks" },
  { method: "DELETE", path: "/v1/tenants/{tenantId}/webhooks/{webhookId}" },
  { method: "GET", path: "/v1/tenants/{tenantId}/webhooks/{webhookId}/deliveries" },
  // Service routes take tenant API keys, never sessions (service-access.suite.ts covers keys).
  { method: "POST", path: "/v1/service/introspect", json: { token: "x" } },
  { method: "POST", path: "/v1/service/usage", json: { userId: ID, feature: "api", quantity: 1 } },
  { method: "GET", path: "/v1/service/usage" },
  { method: "GET", path: "/v1/service/users/{userId}/notification-preferences" },
  { method: "GET", path: "/v1/service/users/{userId}/consents" },
  { method: "GET", path: "/v1/service/security-events" },
];

function build(route: ProtectedRoute, tenantId: string) {
  const fill = (s: string) =>
    s
      .replaceAll(TENANT, tenantId)
      .replace("{id}", ID)
      .replace("{userId}", ID)
      .replace("{factorId}", ID)
      .replace("{invitationId}", ID)
      .replace("{apiKeyId}", ID)
      .replace("{webhookId}", ID);
  const path = fill(route.path) + (route.query ? `?${fill(route.query)}` : "");
  const json = route.json === undefined ? undefined : JSON.parse(fill(JSON.stringify(route.json)));
  return { path, json };
}

const isTenantScoped = (r: ProtectedRoute) => JSON.stringify(r).includes(TENANT);

export function authzSuite(h: () => Harness): void {
  const routes = PROTECTED_ROUTES;

  it("covers every route the OpenAPI document marks as authenticated", async () => {
    const doc = (await call(h(), "GET", "/openapi.json")).body;
    const documented: string[] = [];
    for (const [path, ops] of Object.entries(
      doc.paths as Record<string, Record<string, { security?: unknown[] }>>,
    )) {
      for (const [method, op] of Object.entries(ops))
        if (op.security?.length) documented.push(`${method.toUpperCase()} ${path}`);
    }
    expect(routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(documented.sort());
  });

  it("answers 401 without a token, with a garbage token, and with expired or revoked sessions", async () => {
    const user = await signUp(h());
    const revoked = await signUp(h());
    await call(h(), "POST", "/v1/auth/logout", { token: revoked.token });
    const expiring = await signUp(h());
    const tenantId = await createTenant(h(), user);
    const variants: [string, Record<string, string>][] = [
      ["none", {}],
      ["garbage", { authorization: "Bearer not-a-token" }],
      ["malformed", { authorization: "Basic dXNlcjpwdw==" }],
      ["unknown", { authorization: `Bearer ${"A".repeat(43)}` }],
      ["revoked", { authorization: `Bearer ${revoked.token}` }],
    ];
    for (const route of routes) {
      const { path, json } = build(route, tenantId);
      for (const [name, headers] of variants) {
        const res = await call(h(), route.method, path, { headers, ...(json !== undefined ? { json } : {}) });
        expect(res.status, `${name} ${route.method} ${path}`).toBe(401);
        expect(res.body.code).toBe("unauthorized");
      }
    }
    h().clock.advance(h().config.session.absoluteTtlMs + 1000);
    try {
      for (const route of routes) {
        const { path, json } = build(route, tenantId);
        const res = await call(h(), route.method, path, {
          token: expiring.token,
          ...(json !== undefined ? { json } : {}),
        });
        expect(res.status, `expired ${route.method} ${path}`).toBe(401);
      }
    } finally {
      h().clock.reset();
    }
  });

  it("answers 403 to non-members and for tenants that do not exist, alike", async () => {
    const owner = await signUp(h());
    const outsider = await signUp(h());
    const tenantId = await createTenant(h(), owner);
    for (const route of routes.filter(isTenantScoped)) {
      for (const target of [tenantId, crypto.randomUUID()]) {
        const { path, json } = build(route, target);
        const res = await call(h(), route.method, path, {
          token: outsider.token,
          ...(json !== undefined ? { json } : {}),
        });
        expect(res.status, `${route.method} ${path}`).toBe(403);
        expect(res.body.code).toBe("forbidden");
      }
    }
  });
  it("answers 403 tenant_mfa_required below aal 2 in a tenant that requires MFA, and lets aal 2 through", async () => {
    const owner = await signUp(h());
    const member = await signUp(h());
    const tenantId = await createTenant(h(), owner);
    await addMember(h(), tenantId, owner, member, "admin");
    // The first verified factor upgrades the owner's session to aal 2.
    await enrollTotp(h(), owner);
    await expectStatus(
      api(h(), owner.token).v1.tenants[":tenantId"].$patch({
        param: { tenantId },
        json: { requireMfa: true },
      }),
      200,
    );
    const scoped = routes.filter(isTenantScoped);
    for (const route of scoped) {
      const { path, json } = build(route, tenantId);
      const res = await call(h(), route.method, path, {
        token: member.token,
        ...(json !== undefined ? { json } : {}),
      });
      expect(res.status, `aal 1 ${route.method} ${path}`).toBe(403);
      expect(res.body.code, `aal 1 ${route.method} ${path}`).toBe("tenant_mfa_required");
    }
    // Every one of them admits the owner's aal-2 session: its own answer (404 for the placeholder
    // member and invitation ids), never a refusal. Deleting the tenant comes last: it succeeds.
    const deletion = (r: ProtectedRoute) => r.method === "DELETE" && r.path === "/v1/tenants/{tenantId}";
    for (const route of [...scoped.filter((r) => !deletion(r)), ...scoped.filter(deletion)]) {
      const { path, json } = build(route, tenantId);
      const res = await call(h(), route.method, path, {
        token: owner.token,
        ...(json !== undefined ? { json } : {}),
      });
      expect([200, 201, 204, 404], `aal 2 ${route.method} ${path} ${JSON.stringify(res.body)}`).toContain(
        res.status,
      );
    }
  });
}

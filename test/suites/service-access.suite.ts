/**
 * Tenant API keys and the /v1/service/* routes they authenticate: key management, the
 * authentication matrix (keys only on service routes, sessions never), scopes, the tenant
 * boundary (a user who is not a member of the key's tenant is 404), introspection, server-side
 * usage (exact under concurrency, idempotent, nothing written for non-members) and lastUsedAt.
 */
import { and, count, eq } from "drizzle-orm";
import { beforeAll, expect, it } from "vitest";
import { API_KEY_SCOPES, type ApiKeyScope } from "../../functions/auth/api-key";
import { addMember, createTenant, type SignedUp, signUp } from "../support/fixtures";
import { api, call, expectStatus, type Harness } from "../support/harness";

const ID = "01900000-0000-7000-8000-000000000000";
const feature = () => `feat-${crypto.randomUUID().slice(0, 8)}`;

/** Every service route with a valid-looking request and the scope it needs. */
const SERVICE_ROUTES: { method: string; path: string; scope: ApiKeyScope; json?: unknown }[] = [
  { method: "POST", path: "/v1/service/introspect", scope: "sessions:introspect", json: { token: "x" } },
  {
    method: "POST",
    path: "/v1/service/usage",
    scope: "usage:write",
    json: { userId: ID, feature: "api", quantity: 1 },
  },
  { method: "GET", path: "/v1/service/usage", scope: "usage:read" },
  { method: "GET", path: `/v1/service/users/${ID}/notification-preferences`, scope: "preferences:read" },
  { method: "GET", path: `/v1/service/users/${ID}/consents`, scope: "consents:read" },
  { method: "GET", path: "/v1/service/security-events", scope: "events:read" },
];

export function serviceAccessSuite(h: () => Harness): void {
  let owner: SignedUp;
  let member: SignedUp;
  let outsider: SignedUp;
  let tenantId: string;
  let otherTenantId: string;
  /** A key of `tenantId` with every scope. */
  let key: string;

  const keys = (user: SignedUp) => api(h(), user.token).v1.tenants[":tenantId"]["api-keys"];
  const service = (k: string) => api(h(), k).v1.service;

  /** Creates a key of `tenant` (as `by`, owner/admin) with `scopes`; returns the key and its id. */
  async function createKey(tenant: string, scopes: ApiKeyScope[] = [...API_KEY_SCOPES], by = owner) {
    const res = await expectStatus(
      keys(by).$post({ param: { tenantId: tenant }, json: { name: "backend", scopes } }),
      201,
    );
    return { key: res.key, id: res.apiKey.id };
  }

  async function usageRows(userId: string): Promise<{ counters: number; keys: number }> {
    const { db, t } = h().open();
    const [c] = await db
      .select({ n: count() })
      .from(t.usageCounters)
      .where(eq(t.usageCounters.userId, userId));
    const [k] = await db
      .select({ n: count() })
      .from(t.usageIdempotencyKeys)
      .where(eq(t.usageIdempotencyKeys.userId, userId));
    return { counters: Number(c?.n), keys: Number(k?.n) };
  }

  beforeAll(async () => {
    owner = await signUp(h());
    member = await signUp(h());
    outsider = await signUp(h());
    tenantId = await createTenant(h(), owner);
    otherTenantId = await createTenant(h(), outsider, "Other");
    await addMember(h(), tenantId, owner, member);
    key = (await createKey(tenantId)).key;
  });

  it("creates a key shown once, lists it without the key, and revokes it at once", async () => {
    const created = await expectStatus(
      keys(owner).$post({
        param: { tenantId },
        json: { name: " billing ", scopes: ["usage:write", "usage:read", "usage:write"] },
      }),
      201,
    );
    expect(created.key).toMatch(/^udh_[A-Za-z0-9_-]{43}$/);
    expect(created.apiKey).toEqual({
      id: expect.any(String),
      name: "billing",
      scopes: ["usage:write", "usage:read"],
      prefix: created.key.slice(4, 12),
      createdAt: expect.any(String),
      lastUsedAt: null,
    });
    const listed = await expectStatus(keys(owner).$get({ param: { tenantId } }), 200);
    expect(listed.apiKeys).toContainEqual(created.apiKey);
    expect(JSON.stringify(listed)).not.toContain(created.key.slice(4));

    await expectStatus(service(created.key).usage.$get({ query: {} }), 200);
    const revoke = (apiKeyId: string) => keys(owner)[":apiKeyId"].$delete({ param: { tenantId, apiKeyId } });
    await expectStatus(revoke(created.apiKey.id), 204);
    const refused = await expectStatus(service(created.key).usage.$get({ query: {} }), 401);
    expect(refused.code).toBe("unauthorized");
    await expectStatus(revoke(created.apiKey.id), 404);
    await expectStatus(revoke(crypto.randomUUID()), 404);
    // Another tenant's key id is unknown here.
    const foreign = await createKey(otherTenantId, ["usage:read"], outsider);
    await expectStatus(revoke(foreign.id), 404);
    await expectStatus(service(foreign.key).usage.$get({ query: {} }), 200);
    const after = await expectStatus(keys(owner).$get({ param: { tenantId } }), 200);
    expect(after.apiKeys.map((k) => k.id)).not.toContain(created.apiKey.id);

    const feed = await expectStatus(
      api(h(), owner.token).v1.tenants[":tenantId"]["security-events"].$get({
        param: { tenantId },
        query: {},
      }),
      200,
    );
    const keyEvents = feed.events.filter((e) => e.metadata.apiKeyId === created.apiKey.id);
    expect(keyEvents.map((e) => [e.type, e.tenantId])).toEqual([
      ["api_key.revoked", tenantId],
      ["api_key.created", tenantId],
    ]);
  });

  it("lets owners and admins with a verified email manage keys, nobody else", async () => {
    const admin = await signUp(h());
    const unverified = await signUp(h(), { verified: false });
    await addMember(h(), tenantId, owner, admin, "admin");
    // Invitations need a verified address, so an unverified admin is one who joined before
    // verification was required (EMAIL_VERIFICATION=off then): written directly.
    const { db, t } = h().open();
    await db
      .insert(t.tenantMemberships)
      .values({ tenantId, userId: unverified.userId, role: "admin", createdAt: new Date() });
    await createKey(tenantId, ["events:read"], admin);
    const body = { name: "k", scopes: ["events:read" as const] };
    const notVerified = await expectStatus(keys(unverified).$post({ param: { tenantId }, json: body }), 403);
    expect(notVerified.code).toBe("email_not_verified");
    for (const by of [member, outsider]) {
      const res = await expectStatus(keys(by).$post({ param: { tenantId }, json: body }), 403);
      expect(res.code).toBe("forbidden");
      await expectStatus(keys(by).$get({ param: { tenantId } }), 403);
    }
    await expectStatus(
      keys(member)[":apiKeyId"].$delete({ param: { tenantId, apiKeyId: crypto.randomUUID() } }),
      403,
    );
    for (const json of [
      { name: "k", scopes: [] },
      { name: "", scopes: ["events:read"] },
      { name: "k", scopes: ["admin:all"] },
    ]) {
      // @ts-expect-error: invalid on purpose.
      const res = await keys(owner).$post({ param: { tenantId }, json });
      expect(res.status, JSON.stringify(json)).toBe(400);
    }
  });

  it("authenticates service routes with live keys only: sessions, bad and revoked keys are 401", async () => {
    const revoked = await createKey(tenantId);
    await expectStatus(keys(owner)[":apiKeyId"].$delete({ param: { tenantId, apiKeyId: revoked.id } }), 204);
    const deletedTenant = await createTenant(h(), owner, "Doomed");
    const orphan = await createKey(deletedTenant);
    const { db, t } = h().open();
    await db
      .update(t.tenantAccounts)
      .set({ deletedAt: new Date() })
      .where(eq(t.tenantAccounts.id, deletedTenant));
    const variants: [string, Record<string, string>][] = [
      ["none", {}],
      ["session", { authorization: `Bearer ${owner.token}` }],
      ["malformed", { authorization: "Bearer udh_short" }],
      ["not bearer", { authorization: `Basic ${key}` }],
      ["unknown", { authorization: `Bearer udh_${"A".repeat(43)}` }],
      ["revoked", { authorization: `Bearer ${revoked.key}` }],
      ["deleted tenant", { authorization: `Bearer ${orphan.key}` }],
    ];
    for (const route of SERVICE_ROUTES) {
      for (const [name, headers] of variants) {
        const res = await call(h(), route.method, route.path, {
          headers,
          ...(route.json ? { json: route.json } : {}),
        });
        expect(res.status, `${name} ${route.method} ${route.path}`).toBe(401);
        expect(res.body.code).toBe("unauthorized");
      }
    }
    // A key never authenticates a user route.
    for (const [method, path] of [
      ["GET", "/v1/me"],
      ["GET", "/v1/usage"],
      ["GET", `/v1/tenants/${tenantId}/api-keys`],
    ] as const) {
      const res = await call(h(), method, path, { token: key });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });

  it("answers 403 insufficient_scope to a key without the route's scope", async () => {
    for (const route of SERVICE_ROUTES) {
      const others = API_KEY_SCOPES.filter((s) => s !== route.scope);
      const narrow = await createKey(tenantId, others);
      const res = await call(h(), route.method, route.path, {
        token: narrow.key,
        ...(route.json ? { json: route.json } : {}),
      });
      expect(res.status, `${route.method} ${route.path}`).toBe(403);
      expect(res.body.code).toBe("insufficient_scope");
      const allowed = await createKey(tenantId, [route.scope]);
      const ok = await call(h(), route.method, route.path, {
        token: allowed.key,
        ...(route.json ? { json: route.json } : {}),
      });
      // The made-up user of the template is not a member: 404 where the route names a user.
      expect(ok.status, `${route.method} ${route.path}`).toBeOneOf([200, 404]);
    }
  });

  it("introspects live sessions with the role in the key's tenant; anything else is inactive", async () => {
    const live = await expectStatus(service(key).introspect.$post({ json: { token: member.token } }), 200);
    expect(live).toEqual({
      active: true,
      userId: member.userId,
      sessionId: member.sessionId,
      aal: 1,
      expiresAt: expect.any(String),
      role: "member",
    });
    const stranger = await expectStatus(
      service(key).introspect.$post({ json: { token: outsider.token } }),
      200,
    );
    expect(stranger).toMatchObject({ active: true, userId: outsider.userId, role: null });

    const loggedOut = await signUp(h());
    await expectStatus(api(h(), loggedOut.token).v1.auth.logout.$post(), 204);
    for (const token of [loggedOut.token, "A".repeat(43), "not a token", key]) {
      const res = await expectStatus(service(key).introspect.$post({ json: { token } }), 200);
      expect(res, token).toEqual({ active: false });
    }
    await expectStatus(service(key).introspect.$post({ json: { token: "" } }), 400);
  });

  it("never extends a session and reports it inactive once expired", async () => {
    const user = await signUp(h());
    const { db, t } = h().open();
    const row = async () => {
      const [s] = await db
        .select({ lastSeenAt: t.userSessions.lastSeenAt, expiresAt: t.userSessions.expiresAt })
        .from(t.userSessions)
        .where(eq(t.userSessions.id, user.sessionId));
      return s;
    };
    const before = await row();
    const { touchIntervalMs, idleTtlMs } = h().config.session;
    h().clock.set(Date.now() + touchIntervalMs + 1000);
    try {
      const res = await expectStatus(service(key).introspect.$post({ json: { token: user.token } }), 200);
      expect(res).toMatchObject({ active: true, expiresAt: before?.expiresAt.toISOString() });
      expect(await row()).toEqual(before);
      h().clock.set(Date.now() + idleTtlMs + 1000);
      const expired = await expectStatus(service(key).introspect.$post({ json: { token: user.token } }), 200);
      expect(expired).toEqual({ active: false });
      expect(await row()).toEqual(before);
    } finally {
      h().clock.reset();
    }
  });

  it("adds exactly 200 after 200 concurrent service increments for a member", async () => {
    const f = feature();
    const answers = await Promise.all(
      Array.from({ length: 200 }, () =>
        service(key).usage.$post({ header: {}, json: { userId: member.userId, feature: f, quantity: 1 } }),
      ),
    );
    const bodies = await Promise.all(answers.map((a) => expectStatus(a, 200)));
    expect(bodies.map((b) => b.counter.total).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    expect(bodies[0]?.counter).toMatchObject({ feature: f, tenantId, period: "day" });
    const one = await expectStatus(
      service(key).usage.$get({ query: { feature: f, userId: member.userId } }),
      200,
    );
    expect(one.total).toBe(200);
    const whole = await expectStatus(service(key).usage.$get({ query: { feature: f } }), 200);
    expect(whole.total).toBe(200);
    // The member sees the same counter through the user route, in the tenant's scope.
    const own = await expectStatus(
      api(h(), member.token).v1.usage.$get({ query: { feature: f, tenantId } }),
      200,
    );
    expect(own.total).toBe(200);
  });

  it("counts one Idempotency-Key once, apart from the user's own keys", async () => {
    const f = feature();
    const idem = { "idempotency-key": `svc-${crypto.randomUUID()}` };
    const json = { userId: member.userId, feature: f, quantity: 5 };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => service(key).usage.$post({ json, header: idem })),
    );
    const bodies = await Promise.all(answers.map((a) => expectStatus(a, 200)));
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(bodies[0]?.counter.total).toBe(5);
    const reused = await expectStatus(
      service(key).usage.$post({ json: { ...json, quantity: 6 }, header: idem }),
      409,
    );
    expect(reused.code).toBe("idempotency_key_reused");
    // The same key from the user's own route is the user's, and counts on its own.
    const own = await expectStatus(
      api(h(), member.token).v1.usage.$post({ json: { feature: f, quantity: 5, tenantId }, header: idem }),
      200,
    );
    expect(own.counter.total).toBe(10);
    const bad = await service(key).usage.$post({ json, header: { "idempotency-key": "a b" } });
    expect(bad.status).toBe(400);
  });

  it("answers 404 for users outside the key's tenant and writes nothing", async () => {
    const loner = await signUp(h());
    const json = { userId: loner.userId, feature: feature(), quantity: 1 };
    for (const header of [{}, { "idempotency-key": crypto.randomUUID() }]) {
      const res = await expectStatus(service(key).usage.$post({ json, header }), 404);
      expect(res.code).toBe("not_found");
    }
    expect(await usageRows(loner.userId)).toEqual({ counters: 0, keys: 0 });
    const param = { userId: loner.userId };
    await expectStatus(service(key).usage.$get({ query: { userId: loner.userId } }), 404);
    await expectStatus(service(key).users[":userId"]["notification-preferences"].$get({ param }), 404);
    await expectStatus(service(key).users[":userId"].consents.$get({ param }), 404);
    // A member of another tenant is a stranger here too, and that tenant's key cannot reach ours.
    const foreign = await createKey(otherTenantId, [...API_KEY_SCOPES], outsider);
    await expectStatus(
      service(foreign.key).users[":userId"].consents.$get({ param: { userId: member.userId } }),
      404,
    );
    await expectStatus(
      service(foreign.key).usage.$post({ header: {}, json: { ...json, userId: member.userId } }),
      404,
    );
    await expectStatus(service(key).usage.$get({ query: { userId: "not-a-uuid" } }), 400);
  });

  it("admits a key's increments in a tenant that requires MFA (a key is not a session)", async () => {
    const strict = await createTenant(h(), owner, "Strict");
    const strictKey = await createKey(strict);
    await addMember(h(), strict, owner, member);
    const { db, t } = h().open();
    await db.update(t.tenantAccounts).set({ requireMfa: true }).where(eq(t.tenantAccounts.id, strict));
    const res = await expectStatus(
      service(strictKey.key).usage.$post({
        header: {},
        json: { userId: member.userId, feature: feature(), quantity: 3 },
      }),
      200,
    );
    expect(res.counter.total).toBe(3);
  });

  it("reads a member's preferences and latest consents: the key's tenant and global only", async () => {
    const user = await signUp(h());
    await addMember(h(), tenantId, owner, user);
    await addMember(h(), otherTenantId, outsider, user);
    const param = { userId: user.userId };
    const prefs = () => service(key).users[":userId"]["notification-preferences"].$get({ param });
    const consents = () => service(key).users[":userId"].consents.$get({ param });
    expect(await expectStatus(prefs(), 200)).toEqual({ preferences: [] });
    expect(await expectStatus(consents(), 200)).toEqual({ consents: [] });

    const mine = api(h(), user.token).v1;
    for (const scope of [{}, { tenantId }, { tenantId: otherTenantId }]) {
      await expectStatus(
        mine["notification-preferences"].$put({
          json: { channel: "email", category: "news", enabled: true, ...scope },
        }),
        200,
      );
      for (const version of ["1", "2"]) {
        await expectStatus(
          mine.consents.$post({ json: { policy: "privacy", version, decision: "granted", ...scope } }),
          201,
        );
      }
    }
    const read = await expectStatus(prefs(), 200);
    expect(read.preferences.map((p) => p.tenantId)).toEqual([null, tenantId]);
    const latest = await expectStatus(consents(), 200);
    expect(latest.consents.map((c) => [c.tenantId, c.version])).toEqual([
      [null, "2"],
      [tenantId, "2"],
    ]);
  });

  it("pages the key's tenant's security events and no one else's", async () => {
    const first = await expectStatus(service(key)["security-events"].$get({ query: { limit: "2" } }), 200);
    expect(first.events).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const all = await expectStatus(service(key)["security-events"].$get({ query: { limit: "100" } }), 200);
    expect(all.events.length).toBeGreaterThan(2);
    expect(all.events.every((e) => e.tenantId === tenantId)).toBe(true);
    const created = await expectStatus(
      service(key)["security-events"].$get({ query: { type: "api_key.created" } }),
      200,
    );
    expect(created.events.length).toBeGreaterThan(0);
    expect(created.events.every((e) => e.type === "api_key.created")).toBe(true);
    await expectStatus(service(key)["security-events"].$get({ query: { limit: "0" } }), 400);
  });

  it("writes lastUsedAt at most once a minute", async () => {
    const k = await createKey(tenantId, ["usage:read"]);
    const lastUsed = async () => {
      await h().settle();
      const { db, t } = h().open();
      const [row] = await db
        .select({ at: t.apiKeys.lastUsedAt })
        .from(t.apiKeys)
        .where(and(eq(t.apiKeys.id, k.id), eq(t.apiKeys.tenantId, tenantId)));
      return row?.at?.getTime() ?? null;
    };
    expect(await lastUsed()).toBeNull();
    const t0 = Date.now();
    h().clock.set(t0);
    try {
      const use = () => expectStatus(service(k.key).usage.$get({ query: {} }), 200);
      await Promise.all([use(), use(), use()]);
      expect(await lastUsed()).toBe(t0);
      h().clock.set(t0 + 59_000);
      await use();
      expect(await lastUsed()).toBe(t0);
      h().clock.set(t0 + 60_000);
      await use();
      expect(await lastUsed()).toBe(t0 + 60_000);
      const listed = await expectStatus(keys(owner).$get({ param: { tenantId } }), 200);
      expect(listed.apiKeys.find((a) => a.id === k.id)?.lastUsedAt).toBe(new Date(t0 + 60_000).toISOString());
    } finally {
      h().clock.reset();
    }
  });
}

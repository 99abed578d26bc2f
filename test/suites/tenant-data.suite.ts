/**
 * Tenant data through the HTTP interface: the consent ledger, notification preferences and
 * usage counters. Membership is checked on every tenant-scoped read and write, and the
 * concurrency claims (one row per preference key, exact counters, idempotent increments) are
 * tested with real concurrent requests on every backend.
 */
import { and, count, eq } from "drizzle-orm";
import type { InferRequestType } from "hono/client";
import { beforeAll, describe, expect, it } from "vitest";
import { addMember, bearerToken, createTenant, PASSWORD, type SignedUp, signUp } from "../support/fixtures";
import { api, call, expectStatus, type Harness } from "../support/harness";

type V1 = ReturnType<typeof api>["v1"];
type ConsentBody = InferRequestType<V1["consents"]["$post"]>["json"];
type PreferenceBody = InferRequestType<V1["notification-preferences"]["$put"]>["json"];
type IncrementBody = InferRequestType<V1["usage"]["$post"]>["json"];
type SeriesQuery = InferRequestType<V1["usage"]["$get"]>["query"];

type Owned = "userConsents" | "userNotificationPreferences" | "usageCounters" | "usageIdempotencyKeys";

/** Rows of `table` owned by `userId`, counted directly in the database. */
async function rowsOf(h: Harness, table: Owned, userId: string): Promise<number> {
  const { db, t } = h.open();
  const tbl = t[table] as (typeof t)["userConsents"];
  const [row] = await db.select({ n: count() }).from(tbl).where(eq(tbl.userId, userId));
  return Number(row?.n ?? 0);
}

/** Security events of `type` on `userId`. */
async function eventsOf(h: Harness, userId: string, type: string): Promise<number> {
  const { db, t } = h.open();
  const e = t.securityEvents;
  const [row] = await db
    .select({ n: count() })
    .from(e)
    .where(and(eq(e.userId, userId), eq(e.type, type)));
  return Number(row?.n ?? 0);
}

const paths = (body: { errors?: { path: string }[] }) => (body.errors ?? []).map((e) => e.path).sort();
const feature = () => `feat-${crypto.randomUUID().slice(0, 8)}`;

/** A fresh session for an existing account (after clock jumps past the session lifetime). */
async function relogin(h: Harness, user: SignedUp): Promise<string> {
  const login = await expectStatus(
    api(h).v1.auth.login.$post({ json: { email: user.email, password: PASSWORD } }),
    200,
  );
  if (login.status !== "authenticated") throw new Error("the account needs no second factor");
  return bearerToken(login.session);
}

export function tenantDataSuite(h: () => Harness): void {
  let owner: SignedUp;
  let admin: SignedUp;
  let member: SignedUp;
  let outsider: SignedUp;
  let tenantId: string;

  beforeAll(async () => {
    h().clock.reset();
    [owner, admin, member, outsider] = await Promise.all([
      signUp(h()),
      signUp(h()),
      signUp(h()),
      signUp(h()),
    ]);
    tenantId = await createTenant(h(), owner);
    await addMember(h(), tenantId, owner, admin, "admin");
    await addMember(h(), tenantId, owner, member, "member");
  });

  describe("membership", () => {
    it("answers 403 to a non-member and for an unknown tenant on every read and write, writing nothing", async () => {
      for (const tenant of [tenantId, crypto.randomUUID()]) {
        const v1 = api(h(), outsider.token).v1;
        const prefs = v1["notification-preferences"];
        const increment = { feature: "api", quantity: 1, tenantId: tenant };
        const requests = [
          [
            "POST /v1/consents",
            () =>
              v1.consents.$post({
                json: { policy: "terms", version: "1", decision: "granted", tenantId: tenant },
              }),
          ],
          [`GET /v1/consents?tenantId=${tenant}`, () => v1.consents.$get({ query: { tenantId: tenant } })],
          [
            `GET /v1/consents/history?tenantId=${tenant}`,
            () => v1.consents.history.$get({ query: { tenantId: tenant } }),
          ],
          [
            "PUT /v1/notification-preferences",
            () =>
              prefs.$put({ json: { tenantId: tenant, channel: "email", category: "news", enabled: true } }),
          ],
          [
            `GET /v1/notification-preferences?tenantId=${tenant}`,
            () => prefs.$get({ query: { tenantId: tenant } }),
          ],
          ["POST /v1/usage", () => v1.usage.$post({ header: {}, json: increment })],
          [
            "POST /v1/usage (Idempotency-Key)",
            () => v1.usage.$post({ header: { "idempotency-key": "k-403" }, json: increment }),
          ],
          [`GET /v1/usage?tenantId=${tenant}`, () => v1.usage.$get({ query: { tenantId: tenant } })],
          [
            `GET /v1/usage?tenantId=${tenant}&scope=tenant`,
            () => v1.usage.$get({ query: { tenantId: tenant, scope: "tenant" } }),
          ],
        ] as const;
        for (const [request, send] of requests) {
          const res = await send();
          expect(res.status, request).toBe(403);
          expect((await expectStatus(res, 403)).code).toBe("forbidden");
        }
      }
      for (const table of [
        "userConsents",
        "userNotificationPreferences",
        "usageCounters",
        "usageIdempotencyKeys",
      ] as const) {
        expect(await rowsOf(h(), table, outsider.userId), table).toBe(0);
      }
      expect(await eventsOf(h(), outsider.userId, "consent.recorded")).toBe(0);
    });

    it("answers 401 without a session", async () => {
      const v1 = api(h()).v1;
      const prefs = v1["notification-preferences"];
      // Empty bodies: never read, authentication comes first.
      const requests = [
        ["GET /v1/consents", () => v1.consents.$get({ query: {} })],
        // @ts-expect-error: an empty consent.
        ["POST /v1/consents", () => v1.consents.$post({ json: {} })],
        ["GET /v1/consents/history", () => v1.consents.history.$get({ query: {} })],
        ["GET /v1/notification-preferences", () => prefs.$get({ query: {} })],
        // @ts-expect-error: an empty preference.
        ["PUT /v1/notification-preferences", () => prefs.$put({ json: {} })],
        ["GET /v1/usage", () => v1.usage.$get({ query: {} })],
        // @ts-expect-error: an empty increment.
        ["POST /v1/usage", () => v1.usage.$post({ header: {}, json: {} })],
      ] as const;
      for (const [request, send] of requests) {
        const res = await send();
        expect(res.status, request).toBe(401);
      }
    });

    it("documents every route in the OpenAPI document", async () => {
      // The document is served beside the routes, not through them: no typed client.
      const doc = await call(h(), "GET", "/openapi.json");
      expect(Object.keys(doc.body.paths)).toEqual(
        expect.arrayContaining([
          "/v1/consents",
          "/v1/consents/history",
          "/v1/notification-preferences",
          "/v1/usage",
        ]),
      );
      const post = doc.body.paths["/v1/usage"].post;
      expect(post.parameters.map((p: { name: string }) => p.name)).toContain("idempotency-key");
      expect(post.requestBody.content["application/json"].schema).toBeDefined();
    });
  });

  describe("consents", () => {
    it("keeps every record in order and the latest view follows the newest decision", async () => {
      const user = await signUp(h());
      const consents = api(h(), user.token).v1.consents;
      const record = (json: ConsentBody) =>
        consents.$post({ json }, { headers: { "user-agent": "suite/1.0" } });
      const first = await expectStatus(
        record({
          policy: "terms",
          version: "2024-01",
          decision: "granted",
          source: "signup",
        }),
        201,
      );
      expect(first.consent).toEqual({
        id: expect.any(String),
        policy: "terms",
        version: "2024-01",
        decision: "granted",
        tenantId: null,
        source: "signup",
        createdAt: expect.any(String),
      });
      await record({ policy: "marketing", version: "1", decision: "granted" });
      await record({ policy: "terms", version: "2024-01", decision: "revoked" });
      const last = await record({
        policy: "terms",
        version: "2024-06",
        decision: "granted",
        source: "banner",
      });
      const lastConsent = (await expectStatus(last, 201)).consent;

      const history = await expectStatus(consents.history.$get({ query: {} }), 200);
      expect(history.nextCursor).toBeNull();
      expect(history.consents.map((r) => `${r.policy}:${r.decision}`)).toEqual([
        "terms:granted",
        "terms:revoked",
        "marketing:granted",
        "terms:granted",
      ]);
      const terms = await expectStatus(consents.history.$get({ query: { policy: "terms" } }), 200);
      expect(terms.consents).toHaveLength(3);

      const latest = await expectStatus(consents.$get({ query: {} }), 200);
      expect(latest.consents.map((r) => r.policy)).toEqual(["marketing", "terms"]);
      expect(latest.consents[1]).toEqual(lastConsent);

      // Each record keeps the request's keyed hashes and id, and has its security event.
      const { db, t } = h().open();
      const [stored] = await db
        .select({
          ipHash: t.userConsents.ipHash,
          ua: t.userConsents.userAgentHash,
          requestId: t.userConsents.requestId,
        })
        .from(t.userConsents)
        .where(eq(t.userConsents.id, lastConsent.id));
      expect(stored?.ipHash).toMatch(/^[0-9a-f]{64}$/);
      expect(stored?.ua).toMatch(/^[0-9a-f]{64}$/);
      expect(stored?.requestId).toBe(last.headers.get("x-request-id"));
      expect(await eventsOf(h(), user.userId, "consent.recorded")).toBe(4);
    });

    it("keeps tenant and global records apart and tags the tenant's security event", async () => {
      const consents = api(h(), member.token).v1.consents;
      const global = await expectStatus(
        consents.$post({ json: { policy: "dpa", version: "1", decision: "granted" } }),
        201,
      );
      const scoped = await expectStatus(
        consents.$post({ json: { policy: "dpa", version: "1", decision: "revoked", tenantId } }),
        201,
      );
      expect(scoped.consent.tenantId).toBe(tenantId);
      const inTenant = await expectStatus(consents.$get({ query: { tenantId } }), 200);
      expect(inTenant.consents).toEqual([scoped.consent]);
      const outside = await expectStatus(consents.$get({ query: {} }), 200);
      expect(outside.consents).toEqual([global.consent]);

      const { db, t } = h().open();
      const [event] = await db
        .select({ tenantId: t.securityEvents.tenantId, metadata: t.securityEvents.metadata })
        .from(t.securityEvents)
        .where(and(eq(t.securityEvents.userId, member.userId), eq(t.securityEvents.type, "consent.recorded")))
        .orderBy(t.securityEvents.id);
      expect(event?.metadata).toMatchObject({ consentId: global.consent.id });
      const events = await expectStatus(
        api(h(), member.token).v1["security-events"].$get({ query: { type: "consent.recorded" } }),
        200,
      );
      expect(events.events[0]).toMatchObject({
        tenantId,
        metadata: { consentId: scoped.consent.id },
      });
    });

    it("paginates the history with limit, cursor and nextCursor", async () => {
      const user = await signUp(h());
      const consents = api(h(), user.token).v1.consents;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const created = await expectStatus(
          consents.$post({
            json: { policy: "terms", version: `v${i}`, decision: i % 2 ? "revoked" : "granted" },
          }),
          201,
        );
        ids.unshift(created.consent.id);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      const sizes: number[] = [];
      do {
        const query: { limit: string; cursor?: string } = cursor ? { limit: "2", cursor } : { limit: "2" };
        const page = await expectStatus(consents.history.$get({ query }), 200);
        sizes.push(page.consents.length);
        seen.push(...page.consents.map((r) => r.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(sizes).toEqual([2, 2, 1]);
      expect(seen).toEqual(ids);

      for (const bad of ["0", "101", "abc", "1.5", ""]) {
        const res = await consents.history.$get({ query: { limit: bad } });
        expect(res.status, bad).toBe(400);
        expect(paths(await expectStatus(res, 400))).toEqual(["limit"]);
      }
      const forged = await expectStatus(consents.history.$get({ query: { cursor: "not-a-cursor" } }), 400);
      expect(paths(forged)).toEqual(["cursor"]);
    });

    it("rejects invalid records with field paths and writes nothing", async () => {
      const user = await signUp(h());
      const consents = api(h(), user.token).v1.consents;
      const res = await expectStatus(
        consents.$post({
          json: {
            policy: "Terms Of Use",
            version: "x".repeat(33),
            // @ts-expect-error: no such decision.
            decision: "maybe",
            source: "",
            tenantId: "acme",
          },
        }),
        400,
      );
      expect(res.code).toBe("invalid_request");
      expect(paths(res)).toEqual(["decision", "policy", "source", "tenantId", "version"]);
      const empty = await expectStatus(
        consents.$post({ json: { policy: "p".repeat(65), version: "", decision: "granted" } }),
        400,
      );
      expect(paths(empty)).toEqual(["policy", "version"]);
      const noBody = await call(h(), "POST", "/v1/consents", { token: user.token });
      expect(noBody.status).toBe(400);
      const badQuery = await expectStatus(consents.$get({ query: { tenantId: "nope" } }), 400);
      expect(paths(badQuery)).toEqual(["tenantId"]);
      expect(await rowsOf(h(), "userConsents", user.userId)).toBe(0);
    });
  });

  describe("notification preferences", () => {
    const preferences = (user: SignedUp) => api(h(), user.token).v1["notification-preferences"];

    it("stores one preference per scope, channel and category", async () => {
      const put = (json: PreferenceBody) => preferences(member).$put({ json });
      const global = await expectStatus(put({ channel: "email", category: "billing", enabled: false }), 200);
      expect(global.preference).toEqual({
        tenantId: null,
        channel: "email",
        category: "billing",
        enabled: false,
        updatedAt: expect.any(String),
      });
      await put({ channel: "email", category: "billing", enabled: true });
      await put({ channel: "sms", category: "billing", enabled: true, tenantId });
      const list = await expectStatus(preferences(member).$get({ query: {} }), 200);
      expect(list.preferences).toEqual([
        expect.objectContaining({ channel: "email", enabled: true, tenantId: null }),
      ]);
      const scoped = await expectStatus(preferences(member).$get({ query: { tenantId } }), 200);
      expect(scoped.preferences).toEqual([
        expect.objectContaining({ channel: "sms", enabled: true, tenantId }),
      ]);
    });

    it("leaves exactly one row after 50 concurrent PUTs of one key, globally and in a tenant", async () => {
      for (const scope of [undefined, tenantId]) {
        const user = await signUp(h());
        if (scope) await addMember(h(), scope, owner, user);
        const written = Array.from({ length: 50 }, (_, i) => i % 3 === 0);
        const answers = await Promise.all(
          written.map((enabled) =>
            preferences(user).$put({
              json: { channel: "push", category: "security", enabled, ...(scope ? { tenantId: scope } : {}) },
            }),
          ),
        );
        expect(answers.map((a) => a.status)).toEqual(written.map(() => 200));
        expect(await rowsOf(h(), "userNotificationPreferences", user.userId)).toBe(1);
        const list = await expectStatus(preferences(user).$get({ query: { tenantId: scope } }), 200);
        expect(list.preferences).toHaveLength(1);
        expect(written).toContain(list.preferences[0]?.enabled);
      }
    });

    it("costs at most two statements per upsert (session lookup and the write)", async () => {
      const user = await signUp(h());
      await addMember(h(), tenantId, owner, user);
      for (const scope of [{}, { tenantId }]) {
        await expectStatus(
          preferences(user).$put({
            json: { channel: "in_app", category: "digest", enabled: true, ...scope },
          }),
          200,
        );
        expect(h().lastRequestDb()?.stats.statements).toBeOneOf([1, 2]);
      }
    });

    it("rejects invalid preferences with field paths", async () => {
      const res = await expectStatus(
        preferences(member).$put({
          // @ts-expect-error: no such channel; enabled is no boolean, tenantId no string.
          json: { channel: "fax", category: "Bad Category", enabled: "yes", tenantId: 5 },
        }),
        400,
      );
      expect(paths(res)).toEqual(["category", "channel", "enabled", "tenantId"]);
      // @ts-expect-error: an array, not a preference.
      await expectStatus(preferences(member).$put({ json: [] }), 400);
    });
  });

  describe("usage", () => {
    const usage = (token: string) => api(h(), token).v1.usage;
    const post = (token: string, json: IncrementBody, key?: string) =>
      usage(token).$post({ header: { "idempotency-key": key }, json });

    it("adds exactly 200 after 200 concurrent increments of 1, globally and in a tenant", async () => {
      for (const scope of [{}, { tenantId }]) {
        const f = feature();
        const answers = await Promise.all(
          Array.from({ length: 200 }, () => post(member.token, { feature: f, quantity: 1, ...scope })),
        );
        expect(answers.every((a) => a.status === 200)).toBe(true);
        const bodies = await Promise.all(answers.map((a) => expectStatus(a, 200)));
        const totals = bodies.map((b) => b.counter.total).sort((a, b) => a - b);
        expect(totals).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
        const read = await expectStatus(usage(member.token).$get({ query: { feature: f, ...scope } }), 200);
        expect(read.total).toBe(200);
      }
    });

    it("answers the counter of the day and costs one statement without a key (session check folded in)", async () => {
      const user = await signUp(h());
      await addMember(h(), tenantId, owner, user);
      const f = feature();
      for (const scope of [{}, { tenantId }]) {
        const res = await expectStatus(post(user.token, { feature: f, quantity: 7, ...scope }), 200);
        expect(h().lastRequestDb()?.stats.statements).toBe(1);
        expect(res.counter).toEqual({
          feature: f,
          tenantId: "tenantId" in scope ? tenantId : null,
          period: "day",
          periodStart: new Date().toISOString().slice(0, 10),
          total: 7,
        });
      }
    });

    it("counts 20 concurrent requests with one Idempotency-Key once, answering them all the same", async () => {
      const f = feature();
      await post(member.token, { feature: f, quantity: 3 });
      const body = { feature: f, quantity: 5 };
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => post(member.token, body, "order-42")),
      );
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      const bodies = await Promise.all(answers.map((a) => expectStatus(a, 200)));
      expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
      expect(bodies[0]?.counter.total).toBe(8);

      // Same JSON, other layout: the same answer. A different body: 409. Another key: counts.
      const reordered = await call(h(), "POST", "/v1/usage", {
        token: member.token,
        body: JSON.stringify({ quantity: 5, feature: f }, null, 2),
        headers: { "content-type": "application/json", "idempotency-key": "order-42" },
      });
      expect(reordered.body).toEqual(bodies[0]);
      const reused = await expectStatus(post(member.token, { feature: f, quantity: 6 }, "order-42"), 409);
      expect(reused.code).toBe("idempotency_key_reused");
      const other = await expectStatus(post(member.token, body, "order-43"), 200);
      expect(other.counter.total).toBe(13);
      // Keys are per user: another user's identical key is theirs alone.
      const theirs = await expectStatus(post(admin.token, body, "order-42"), 200);
      expect(theirs.counter.total).toBe(5);
      const read = await expectStatus(usage(member.token).$get({ query: { feature: f } }), 200);
      expect(read.total).toBe(13);
    });

    it("replays within 24 hours and lets an expired key count again", async () => {
      const t0 = Date.UTC(2031, 4, 10, 12);
      h().clock.set(t0);
      try {
        const user = await signUp(h());
        const own = await createTenant(h(), user, "Replay");
        const f = feature();
        const body = { feature: f, quantity: 4, tenantId: own, occurredAt: new Date(t0).toISOString() };
        const first = await expectStatus(post(user.token, body, "retry-me"), 200);
        expect(first.counter).toMatchObject({ total: 4, periodStart: "2031-05-10" });
        h().clock.advance(30 * 60 * 1000); // within the session idle lifetime
        const replayed = await expectStatus(post(user.token, body, "retry-me"), 200);
        expect(replayed).toEqual(first);
        h().clock.set(t0 + 24 * 60 * 60 * 1000 + 1000);
        const again = await expectStatus(post(await relogin(h(), user), body, "retry-me"), 200);
        expect(again.counter.total).toBe(8);
        expect(await rowsOf(h(), "usageIdempotencyKeys", user.userId)).toBe(1);
      } finally {
        h().clock.reset();
      }
    });

    it("rejects bad Idempotency-Keys, quantities and occurredAt outside the accepted window", async () => {
      const t0 = Date.UTC(2031, 0, 20, 8);
      h().clock.set(t0);
      try {
        const user = await signUp(h());
        const f = feature();
        const at = (ms: number) => new Date(t0 + ms).toISOString();
        const hour = 60 * 60 * 1000;
        const ok = await expectStatus(
          post(user.token, { feature: f, quantity: 1, occurredAt: at(-167 * hour) }),
          200,
        );
        expect(ok.counter.periodStart).toBe("2031-01-13");
        await expectStatus(post(user.token, { feature: f, quantity: 1, occurredAt: at(4 * 60_000) }), 200);
        for (const occurredAt of [at(-169 * hour), at(6 * 60_000), "yesterday", "2031-01-20"]) {
          const res = await post(user.token, { feature: f, quantity: 1, occurredAt });
          expect(res.status, occurredAt).toBe(400);
          expect(paths(await expectStatus(res, 400))).toEqual(["occurredAt"]);
        }
        for (const quantity of [0, 1_000_001, 1.5, "5", null]) {
          // @ts-expect-error: "5" and null are no numbers.
          const res = await post(user.token, { feature: f, quantity });
          expect(res.status, String(quantity)).toBe(400);
          expect(paths(await expectStatus(res, 400))).toEqual(["quantity"]);
        }
        const badFeature = await expectStatus(post(user.token, { feature: "Not A Slug", quantity: 1 }), 400);
        expect(paths(badFeature)).toEqual(["feature"]);
        for (const key of ["", "has space", "x".repeat(256), "tab\there"]) {
          const res = await post(user.token, { feature: f, quantity: 1 }, key);
          expect(res.status, JSON.stringify(key)).toBe(400);
          expect(paths(await expectStatus(res, 400))).toEqual(["Idempotency-Key"]);
        }
        await expectStatus(post(user.token, { feature: f, quantity: 1 }, "~".repeat(255)), 200);
        const read = await expectStatus(
          usage(user.token).$get({ query: { feature: f, from: "2031-01-01", to: "2031-01-31" } }),
          200,
        );
        expect(read.total).toBe(3);
      } finally {
        h().clock.reset();
      }
    });

    it("reads a zero-filled series by day and by month", async () => {
      const t0 = Date.UTC(2031, 2, 2, 12);
      h().clock.set(t0);
      try {
        const user = await signUp(h());
        const f = feature();
        const days = { "2031-02-24": 2, "2031-02-28": 3, "2031-03-01": 10, "2031-03-02": 20 };
        for (const [day, quantity] of Object.entries(days)) {
          await post(user.token, { feature: f, quantity, occurredAt: `${day}T06:00:00Z` });
        }
        await post(user.token, { feature: feature(), quantity: 100 });

        const series = usage(user.token);
        const byDay = await expectStatus(series.$get({ query: { feature: f } }), 200);
        expect(byDay.series).toHaveLength(30);
        expect(byDay.series[0]).toEqual({ periodStart: "2031-02-01", total: 0 });
        expect(byDay.series.at(-1)).toEqual({ periodStart: "2031-03-02", total: 20 });
        expect(byDay.total).toBe(35);

        const byMonth = await expectStatus(
          series.$get({ query: { feature: f, granularity: "month", from: "2031-01-15", to: "2031-03-31" } }),
          200,
        );
        expect(byMonth).toEqual({
          series: [
            { periodStart: "2031-01-01", total: 0 },
            { periodStart: "2031-02-01", total: 5 },
            { periodStart: "2031-03-01", total: 30 },
          ],
          total: 35,
        });
        const window = await expectStatus(
          series.$get({ query: { feature: f, from: "2031-02-28", to: "2031-03-01" } }),
          200,
        );
        expect(window.series.map((p) => p.total)).toEqual([3, 10]);
        const allFeatures = await expectStatus(
          series.$get({ query: { granularity: "month", from: "2031-03-01", to: "2031-03-31" } }),
          200,
        );
        expect(allFeatures.total).toBe(130);

        const invalid: SeriesQuery[] = [
          { from: "2031-03-05", to: "2031-03-01" },
          { from: "2031-13-01" },
          { to: "yesterday" },
          // @ts-expect-error: no such granularity.
          { granularity: "week" },
          // @ts-expect-error: no such scope.
          { scope: "all" },
        ];
        for (const query of invalid) {
          const res = await series.$get({ query });
          expect(res.status, JSON.stringify(query)).toBe(400);
          expect((await expectStatus(res, 400)).errors).toHaveLength(1);
        }
        const tooLong = await expectStatus(
          series.$get({ query: { from: "2029-01-01", to: "2031-03-01" } }),
          400,
        );
        expect(paths(tooLong)).toEqual(["from"]);
      } finally {
        h().clock.reset();
      }
    });

    it("sums every member with scope=tenant, for owners and admins only", async () => {
      const f = feature();
      await post(owner.token, { feature: f, quantity: 1, tenantId });
      await post(admin.token, { feature: f, quantity: 10, tenantId });
      await post(member.token, { feature: f, quantity: 100, tenantId });
      await post(member.token, { feature: f, quantity: 1000 }); // global: not the tenant's

      const query = { feature: f, tenantId };
      for (const who of [owner, admin]) {
        const res = await expectStatus(usage(who.token).$get({ query: { ...query, scope: "tenant" } }), 200);
        expect(res.total).toBe(111);
      }
      const mine = await expectStatus(usage(member.token).$get({ query }), 200);
      expect(mine.total).toBe(100);
      await expectStatus(usage(member.token).$get({ query: { ...query, scope: "tenant" } }), 403);
      const missing = await expectStatus(
        usage(owner.token).$get({ query: { feature: f, scope: "tenant" } }),
        400,
      );
      expect(paths(missing)).toEqual(["tenantId"]);
    });
  });
}

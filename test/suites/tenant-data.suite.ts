/**
 * Tenant data through the HTTP interface: the consent ledger, notification preferences and
 * usage counters. Membership is checked on every tenant-scoped read and write, and the
 * concurrency claims (one row per preference key, exact counters, idempotent increments) are
 * tested with real concurrent requests on every backend.
 */
import { and, count, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { addMember, createTenant, PASSWORD, type SignedUp, signUp } from "../support/fixtures";
import { call, type Harness } from "../support/harness";

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
  const res = await call(h, "POST", "/v1/auth/login", { json: { email: user.email, password: PASSWORD } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.session.token;
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
        const token = outsider.token;
        const requests: [string, string, unknown?, Record<string, string>?][] = [
          ["POST", "/v1/consents", { policy: "terms", version: "1", decision: "granted", tenantId: tenant }],
          ["GET", `/v1/consents?tenantId=${tenant}`],
          ["GET", `/v1/consents/history?tenantId=${tenant}`],
          [
            "PUT",
            "/v1/notification-preferences",
            { tenantId: tenant, channel: "email", category: "news", enabled: true },
          ],
          ["GET", `/v1/notification-preferences?tenantId=${tenant}`],
          ["POST", "/v1/usage", { feature: "api", quantity: 1, tenantId: tenant }],
          [
            "POST",
            "/v1/usage",
            { feature: "api", quantity: 1, tenantId: tenant },
            { "idempotency-key": "k-403" },
          ],
          ["GET", `/v1/usage?tenantId=${tenant}`],
          ["GET", `/v1/usage?tenantId=${tenant}&scope=tenant`],
        ];
        for (const [method, path, json, headers] of requests) {
          const res = await call(h(), method, path, { token, json, ...(headers ? { headers } : {}) });
          expect(res.status, `${method} ${path}`).toBe(403);
          expect(res.body.code).toBe("forbidden");
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
      for (const [method, path] of [
        ["GET", "/v1/consents"],
        ["POST", "/v1/consents"],
        ["GET", "/v1/consents/history"],
        ["GET", "/v1/notification-preferences"],
        ["PUT", "/v1/notification-preferences"],
        ["GET", "/v1/usage"],
        ["POST", "/v1/usage"],
      ] as const) {
        const res = await call(h(), method, path, method === "GET" ? {} : { json: {} });
        expect(res.status, `${method} ${path}`).toBe(401);
      }
    });

    it("documents every route in the OpenAPI document", async () => {
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
      const record = (json: Record<string, unknown>) =>
        call(h(), "POST", "/v1/consents", {
          token: user.token,
          json,
          headers: { "user-agent": "suite/1.0" },
        });
      const first = await record({
        policy: "terms",
        version: "2024-01",
        decision: "granted",
        source: "signup",
      });
      expect(first.status).toBe(201);
      expect(first.body.consent).toEqual({
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

      const history = await call(h(), "GET", "/v1/consents/history", { token: user.token });
      expect(history.status).toBe(200);
      expect(history.body.nextCursor).toBeNull();
      expect(
        history.body.consents.map((r: { decision: string; policy: string }) => `${r.policy}:${r.decision}`),
      ).toEqual(["terms:granted", "terms:revoked", "marketing:granted", "terms:granted"]);
      const terms = await call(h(), "GET", "/v1/consents/history?policy=terms", { token: user.token });
      expect(terms.body.consents).toHaveLength(3);

      const latest = await call(h(), "GET", "/v1/consents", { token: user.token });
      expect(latest.body.consents.map((r: { policy: string }) => r.policy)).toEqual(["marketing", "terms"]);
      expect(latest.body.consents[1]).toEqual(last.body.consent);

      // Each record keeps the request's keyed hashes and id, and has its security event.
      const { db, t } = h().open();
      const [stored] = await db
        .select({
          ipHash: t.userConsents.ipHash,
          ua: t.userConsents.userAgentHash,
          requestId: t.userConsents.requestId,
        })
        .from(t.userConsents)
        .where(eq(t.userConsents.id, last.body.consent.id));
      expect(stored?.ipHash).toMatch(/^[0-9a-f]{64}$/);
      expect(stored?.ua).toMatch(/^[0-9a-f]{64}$/);
      expect(stored?.requestId).toBe(last.headers.get("x-request-id"));
      expect(await eventsOf(h(), user.userId, "consent.recorded")).toBe(4);
    });

    it("keeps tenant and global records apart and tags the tenant's security event", async () => {
      const global = await call(h(), "POST", "/v1/consents", {
        token: member.token,
        json: { policy: "dpa", version: "1", decision: "granted" },
      });
      const scoped = await call(h(), "POST", "/v1/consents", {
        token: member.token,
        json: { policy: "dpa", version: "1", decision: "revoked", tenantId },
      });
      expect(scoped.status).toBe(201);
      expect(scoped.body.consent.tenantId).toBe(tenantId);
      const inTenant = await call(h(), "GET", `/v1/consents?tenantId=${tenantId}`, { token: member.token });
      expect(inTenant.body.consents).toEqual([scoped.body.consent]);
      const outside = await call(h(), "GET", "/v1/consents", { token: member.token });
      expect(outside.body.consents).toEqual([global.body.consent]);

      const { db, t } = h().open();
      const [event] = await db
        .select({ tenantId: t.securityEvents.tenantId, metadata: t.securityEvents.metadata })
        .from(t.securityEvents)
        .where(and(eq(t.securityEvents.userId, member.userId), eq(t.securityEvents.type, "consent.recorded")))
        .orderBy(t.securityEvents.id);
      expect(event?.metadata).toMatchObject({ consentId: global.body.consent.id });
      const events = await call(h(), "GET", "/v1/security-events?type=consent.recorded", {
        token: member.token,
      });
      expect(events.body.events[0]).toMatchObject({
        tenantId,
        metadata: { consentId: scoped.body.consent.id },
      });
    });

    it("paginates the history with limit, cursor and nextCursor", async () => {
      const user = await signUp(h());
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await call(h(), "POST", "/v1/consents", {
          token: user.token,
          json: { policy: "terms", version: `v${i}`, decision: i % 2 ? "revoked" : "granted" },
        });
        ids.unshift(res.body.consent.id);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      const sizes: number[] = [];
      do {
        const qs: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
        const res = await call(h(), "GET", `/v1/consents/history?limit=2${qs}`, { token: user.token });
        expect(res.status).toBe(200);
        sizes.push(res.body.consents.length);
        seen.push(...res.body.consents.map((r: { id: string }) => r.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(sizes).toEqual([2, 2, 1]);
      expect(seen).toEqual(ids);

      for (const bad of ["0", "101", "abc", "1.5", ""]) {
        const res = await call(h(), "GET", `/v1/consents/history?limit=${bad}`, { token: user.token });
        expect(res.status, bad).toBe(400);
        expect(paths(res.body)).toEqual(["limit"]);
      }
      const forged = await call(h(), "GET", "/v1/consents/history?cursor=not-a-cursor", {
        token: user.token,
      });
      expect(forged.status).toBe(400);
      expect(paths(forged.body)).toEqual(["cursor"]);
    });

    it("rejects invalid records with field paths and writes nothing", async () => {
      const user = await signUp(h());
      const res = await call(h(), "POST", "/v1/consents", {
        token: user.token,
        json: {
          policy: "Terms Of Use",
          version: "x".repeat(33),
          decision: "maybe",
          source: "",
          tenantId: "acme",
        },
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe("invalid_request");
      expect(paths(res.body)).toEqual(["decision", "policy", "source", "tenantId", "version"]);
      const empty = await call(h(), "POST", "/v1/consents", {
        token: user.token,
        json: { policy: "p".repeat(65), version: "", decision: "granted" },
      });
      expect(paths(empty.body)).toEqual(["policy", "version"]);
      const noBody = await call(h(), "POST", "/v1/consents", { token: user.token });
      expect(noBody.status).toBe(400);
      const badQuery = await call(h(), "GET", "/v1/consents?tenantId=nope", { token: user.token });
      expect(paths(badQuery.body)).toEqual(["tenantId"]);
      expect(await rowsOf(h(), "userConsents", user.userId)).toBe(0);
    });
  });

  describe("notification preferences", () => {
    it("stores one preference per scope, channel and category", async () => {
      const put = (json: Record<string, unknown>) =>
        call(h(), "PUT", "/v1/notification-preferences", { token: member.token, json });
      const global = await put({ channel: "email", category: "billing", enabled: false });
      expect(global.status).toBe(200);
      expect(global.body.preference).toEqual({
        tenantId: null,
        channel: "email",
        category: "billing",
        enabled: false,
        updatedAt: expect.any(String),
      });
      await put({ channel: "email", category: "billing", enabled: true });
      await put({ channel: "sms", category: "billing", enabled: true, tenantId });
      const list = await call(h(), "GET", "/v1/notification-preferences", { token: member.token });
      expect(list.body.preferences).toEqual([
        expect.objectContaining({ channel: "email", enabled: true, tenantId: null }),
      ]);
      const scoped = await call(h(), "GET", `/v1/notification-preferences?tenantId=${tenantId}`, {
        token: member.token,
      });
      expect(scoped.body.preferences).toEqual([
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
            call(h(), "PUT", "/v1/notification-preferences", {
              token: user.token,
              json: { channel: "push", category: "security", enabled, ...(scope ? { tenantId: scope } : {}) },
            }),
          ),
        );
        expect(answers.map((a) => a.status)).toEqual(written.map(() => 200));
        expect(await rowsOf(h(), "userNotificationPreferences", user.userId)).toBe(1);
        const list = await call(
          h(),
          "GET",
          `/v1/notification-preferences${scope ? `?tenantId=${scope}` : ""}`,
          {
            token: user.token,
          },
        );
        expect(list.body.preferences).toHaveLength(1);
        expect(written).toContain(list.body.preferences[0].enabled);
      }
    });

    it("costs at most two statements per upsert (session lookup and the write)", async () => {
      const user = await signUp(h());
      await addMember(h(), tenantId, owner, user);
      for (const scope of [{}, { tenantId }]) {
        const res = await call(h(), "PUT", "/v1/notification-preferences", {
          token: user.token,
          json: { channel: "in_app", category: "digest", enabled: true, ...scope },
        });
        expect(res.status).toBe(200);
        expect(h().lastRequestDb()?.stats.statements).toBeOneOf([1, 2]);
      }
    });

    it("rejects invalid preferences with field paths", async () => {
      const res = await call(h(), "PUT", "/v1/notification-preferences", {
        token: member.token,
        json: { channel: "fax", category: "Bad Category", enabled: "yes", tenantId: 5 },
      });
      expect(res.status).toBe(400);
      expect(paths(res.body)).toEqual(["category", "channel", "enabled", "tenantId"]);
      const array = await call(h(), "PUT", "/v1/notification-preferences", { token: member.token, json: [] });
      expect(array.status).toBe(400);
    });
  });

  describe("usage", () => {
    const post = (token: string, json: Record<string, unknown>, key?: string) =>
      call(h(), "POST", "/v1/usage", {
        token,
        json,
        ...(key !== undefined ? { headers: { "idempotency-key": key } } : {}),
      });

    it("adds exactly 200 after 200 concurrent increments of 1, globally and in a tenant", async () => {
      for (const scope of [{}, { tenantId }]) {
        const f = feature();
        const answers = await Promise.all(
          Array.from({ length: 200 }, () => post(member.token, { feature: f, quantity: 1, ...scope })),
        );
        expect(answers.every((a) => a.status === 200)).toBe(true);
        const totals = answers.map((a) => a.body.counter.total).sort((a, b) => a - b);
        expect(totals).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
        const qs = "tenantId" in scope ? `&tenantId=${tenantId}` : "";
        const read = await call(h(), "GET", `/v1/usage?feature=${f}${qs}`, { token: member.token });
        expect(read.body.total).toBe(200);
      }
    });

    it("answers the counter of the day and costs at most two statements without a key", async () => {
      const user = await signUp(h());
      await addMember(h(), tenantId, owner, user);
      const f = feature();
      for (const scope of [{}, { tenantId }]) {
        const res = await post(user.token, { feature: f, quantity: 7, ...scope });
        expect(res.status).toBe(200);
        expect(h().lastRequestDb()?.stats.statements).toBeOneOf([1, 2]);
        expect(res.body.counter).toEqual({
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
      expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
      expect(answers[0]?.body.counter.total).toBe(8);

      // Same JSON, other layout: the same answer. A different body: 409. Another key: counts.
      const reordered = await call(h(), "POST", "/v1/usage", {
        token: member.token,
        body: JSON.stringify({ quantity: 5, feature: f }, null, 2),
        headers: { "content-type": "application/json", "idempotency-key": "order-42" },
      });
      expect(reordered.body).toEqual(answers[0]?.body);
      const reused = await post(member.token, { feature: f, quantity: 6 }, "order-42");
      expect(reused.status).toBe(409);
      expect(reused.body.code).toBe("idempotency_key_reused");
      const other = await post(member.token, body, "order-43");
      expect(other.body.counter.total).toBe(13);
      // Keys are per user: another user's identical key is theirs alone.
      const theirs = await post(admin.token, body, "order-42");
      expect(theirs.body.counter.total).toBe(5);
      const read = await call(h(), "GET", `/v1/usage?feature=${f}`, { token: member.token });
      expect(read.body.total).toBe(13);
    });

    it("replays within 24 hours and lets an expired key count again", async () => {
      const t0 = Date.UTC(2031, 4, 10, 12);
      h().clock.set(t0);
      try {
        const user = await signUp(h());
        const own = await createTenant(h(), user, "Replay");
        const f = feature();
        const body = { feature: f, quantity: 4, tenantId: own, occurredAt: new Date(t0).toISOString() };
        const first = await post(user.token, body, "retry-me");
        expect(first.body.counter).toMatchObject({ total: 4, periodStart: "2031-05-10" });
        h().clock.advance(30 * 60 * 1000); // within the session idle lifetime
        const replayed = await post(user.token, body, "retry-me");
        expect(replayed.body).toEqual(first.body);
        h().clock.set(t0 + 24 * 60 * 60 * 1000 + 1000);
        const again = await post(await relogin(h(), user), body, "retry-me");
        expect(again.body.counter.total).toBe(8);
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
        const ok = await post(user.token, { feature: f, quantity: 1, occurredAt: at(-167 * hour) });
        expect(ok.body.counter.periodStart).toBe("2031-01-13");
        expect((await post(user.token, { feature: f, quantity: 1, occurredAt: at(4 * 60_000) })).status).toBe(
          200,
        );
        for (const occurredAt of [at(-169 * hour), at(6 * 60_000), "yesterday", "2031-01-20"]) {
          const res = await post(user.token, { feature: f, quantity: 1, occurredAt });
          expect(res.status, occurredAt).toBe(400);
          expect(paths(res.body)).toEqual(["occurredAt"]);
        }
        for (const quantity of [0, 1_000_001, 1.5, "5", null]) {
          const res = await post(user.token, { feature: f, quantity });
          expect(res.status, String(quantity)).toBe(400);
          expect(paths(res.body)).toEqual(["quantity"]);
        }
        const badFeature = await post(user.token, { feature: "Not A Slug", quantity: 1 });
        expect(paths(badFeature.body)).toEqual(["feature"]);
        for (const key of ["", "has space", "x".repeat(256), "tab\there"]) {
          const res = await post(user.token, { feature: f, quantity: 1 }, key);
          expect(res.status, JSON.stringify(key)).toBe(400);
          expect(paths(res.body)).toEqual(["Idempotency-Key"]);
        }
        const longest = await post(user.token, { feature: f, quantity: 1 }, "~".repeat(255));
        expect(longest.status).toBe(200);
        const read = await call(h(), "GET", `/v1/usage?feature=${f}&from=2031-01-01&to=2031-01-31`, {
          token: user.token,
        });
        expect(read.body.total).toBe(3);
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

        const byDay = await call(h(), "GET", `/v1/usage?feature=${f}`, { token: user.token });
        expect(byDay.status).toBe(200);
        expect(byDay.body.series).toHaveLength(30);
        expect(byDay.body.series[0]).toEqual({ periodStart: "2031-02-01", total: 0 });
        expect(byDay.body.series.at(-1)).toEqual({ periodStart: "2031-03-02", total: 20 });
        expect(byDay.body.total).toBe(35);

        const byMonth = await call(
          h(),
          "GET",
          `/v1/usage?feature=${f}&granularity=month&from=2031-01-15&to=2031-03-31`,
          {
            token: user.token,
          },
        );
        expect(byMonth.body).toEqual({
          series: [
            { periodStart: "2031-01-01", total: 0 },
            { periodStart: "2031-02-01", total: 5 },
            { periodStart: "2031-03-01", total: 30 },
          ],
          total: 35,
        });
        const window = await call(h(), "GET", `/v1/usage?feature=${f}&from=2031-02-28&to=2031-03-01`, {
          token: user.token,
        });
        expect(window.body.series.map((p: { total: number }) => p.total)).toEqual([3, 10]);
        const allFeatures = await call(
          h(),
          "GET",
          "/v1/usage?granularity=month&from=2031-03-01&to=2031-03-31",
          {
            token: user.token,
          },
        );
        expect(allFeatures.body.total).toBe(130);

        for (const qs of [
          "from=2031-03-05&to=2031-03-01",
          "from=2031-13-01",
          "to=yesterday",
          "granularity=week",
          "scope=all",
        ]) {
          const res = await call(h(), "GET", `/v1/usage?${qs}`, { token: user.token });
          expect(res.status, qs).toBe(400);
          expect(res.body.errors).toHaveLength(1);
        }
        const tooLong = await call(h(), "GET", "/v1/usage?from=2029-01-01&to=2031-03-01", {
          token: user.token,
        });
        expect(paths(tooLong.body)).toEqual(["from"]);
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

      const qs = `feature=${f}&tenantId=${tenantId}`;
      for (const who of [owner, admin]) {
        const res = await call(h(), "GET", `/v1/usage?${qs}&scope=tenant`, { token: who.token });
        expect(res.status).toBe(200);
        expect(res.body.total).toBe(111);
      }
      const mine = await call(h(), "GET", `/v1/usage?${qs}`, { token: member.token });
      expect(mine.body.total).toBe(100);
      const denied = await call(h(), "GET", `/v1/usage?${qs}&scope=tenant`, { token: member.token });
      expect(denied.status).toBe(403);
      const missing = await call(h(), "GET", `/v1/usage?feature=${f}&scope=tenant`, { token: owner.token });
      expect(missing.status).toBe(400);
      expect(paths(missing.body)).toEqual(["tenantId"]);
    });
  });
}

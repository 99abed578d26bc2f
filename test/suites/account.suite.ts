/**
 * The account as a whole: the export of every record the service holds about the caller
 * (`POST /v1/me/export`) and the deletion of the account (`DELETE /v1/me`), through the HTTP
 * interface, with the database read directly where the claim is about what it holds.
 */
import { and, count, eq } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import { expect, it } from "vitest";
import { sweepExpired } from "../../db/sweep";
import { securityEventRow } from "../../functions/security-events";
import { EXPORT_PAGE_SIZE, securityEventPages } from "../../functions/stores/export";
import { insertSecurityEvents } from "../../functions/stores/security-events";
import { dumpTables, findInDump } from "../support/db-audit";
import {
  bearerToken,
  createTenant,
  messagesTo,
  PASSWORD,
  type SignedUp,
  signUp,
  uniqueEmail,
  verifyEmail,
} from "../support/fixtures";
import { api, call, expectStatus, type Harness, makeHarness } from "../support/harness";
import { challenge, codeAt, type Enrolled, enrollTotp, STEP_MS, stepStart } from "../support/mfa";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The export's answer: headers, raw text and the parsed document. */
async function exportAccount(m: Harness, token: string, body: { currentPassword?: string } = {}) {
  const res = await api(m, token).v1.me.export.$post({ json: body });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  await m.settle();
  // biome-ignore lint/suspicious/noExplicitAny: the document is compared field by field.
  return { headers: res.headers, text, doc: JSON.parse(text) as Record<string, any> };
}

/** Every event of the caller's feed, through the paginated endpoint. */
async function allEvents(m: Harness, token: string) {
  const events: { id: string; type: string }[] = [];
  let cursor: string | undefined;
  do {
    const page = await expectStatus(
      api(m, token).v1["security-events"].$get({ query: { limit: "100", ...(cursor ? { cursor } : {}) } }),
      200,
    );
    events.push(...page.events);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return events;
}

/** Registers with a display name, verifies the address, signs in. */
async function signUpNamed(m: Harness, displayName: string): Promise<SignedUp> {
  const email = uniqueEmail("gone");
  const reg = await expectStatus(
    api(m).v1.auth.register.$post({ json: { email, password: PASSWORD, displayName } }),
    201,
  );
  await verifyEmail(m, email);
  const login = await expectStatus(api(m).v1.auth.login.$post({ json: { email, password: PASSWORD } }), 200);
  if (login.status !== "authenticated") throw new Error("no second factor yet");
  return {
    email,
    password: PASSWORD,
    userId: reg.user.id,
    token: bearerToken(login.session),
    sessionId: login.session.id,
  };
}

/** A second-factor session (login, then the code of the current step). */
async function mfaSession(m: Harness, user: SignedUp, enrolled: Enrolled): Promise<string> {
  const token = await challenge(m, user);
  const verified = await expectStatus(
    api(m).v1.auth.mfa.verify.$post({
      json: { challengeToken: token, code: codeAt(enrolled.secret, m.clock.now()) },
    }),
    200,
  );
  return bearerToken(verified.session);
}

/** Rows of `table` whose `user_id` is `userId`. */
async function countFor(
  m: Harness,
  table: "userConsents" | "securityEvents" | "userSessions" | "mfaChallenges",
  userId: string,
) {
  const { db, t } = m.open();
  const tbl = t[table];
  const [row] = await db.select({ n: count() }).from(tbl).where(eq(tbl.userId, userId));
  return Number(row?.n ?? 0);
}

async function addMembership(
  m: Harness,
  tenantId: string,
  userId: string,
  role: "owner" | "admin" | "member",
) {
  const { db, t } = m.open();
  await db.insert(t.tenantMemberships).values({ tenantId, userId, role, createdAt: new Date(m.clock.now()) });
}

export function accountSuite(h: () => Harness): void {
  const fresh = () => {
    const m = makeHarness({ backend: h().backend, open: h().open });
    m.clock.set(stepStart());
    return m;
  };

  it("exports every record the other endpoints show, as a download, with no secret, token or hash of one", async () => {
    const m = fresh();
    const user = await signUp(m);
    const enrolled = await enrollTotp(m, user);
    m.clock.advance(STEP_MS);
    const second = await mfaSession(m, user, enrolled);
    const v1 = api(m, user.token).v1;
    const tenantId = await createTenant(m, user, "Export Co");
    const consent = (policy: string, version: string, decision: "granted" | "revoked", tenant?: string) =>
      expectStatus(
        v1.consents.$post({ json: { policy, version, decision, ...(tenant ? { tenantId: tenant } : {}) } }),
        201,
      );
    await consent("privacy", "1", "granted");
    await consent("privacy", "2", "revoked");
    await consent("terms", "1", "granted", tenantId);
    await consent("terms", "1", "revoked", tenantId);
    const prefs = v1["notification-preferences"];
    await expectStatus(prefs.$put({ json: { channel: "email", category: "news", enabled: true } }), 200);
    await expectStatus(
      prefs.$put({ json: { channel: "push", category: "alerts", enabled: false, tenantId } }),
      200,
    );
    const once = { json: { feature: "api_calls", quantity: 3 }, header: { "idempotency-key": "export-k1" } };
    const counted = await expectStatus(v1.usage.$post(once), 200);
    expect(await expectStatus(v1.usage.$post(once), 200)).toEqual(counted);
    const inTenant = await expectStatus(
      v1.usage.$post({ json: { feature: "exports", quantity: 2, tenantId }, header: {} }),
      200,
    );

    const { headers, text, doc } = await exportAccount(m, user.token);
    expect(headers.get("content-disposition")).toBe('attachment; filename="account-export.json"');
    expect(headers.get("content-type")).toMatch(/^application\/json/);
    expect(headers.get("cache-control")).toBe("no-store");
    expect(Object.keys(doc)).toEqual([
      "exportedAt",
      "user",
      "sessions",
      "factors",
      "recoveryCodes",
      "tenants",
      "consents",
      "notificationPreferences",
      "usage",
      "securityEvents",
    ]);
    expect(doc.exportedAt).toBe(new Date(m.clock.now()).toISOString());
    expect(doc.user).toEqual((await expectStatus(v1.me.$get(), 200)).user);
    const sessions = (await expectStatus(v1.auth.sessions.$get(), 200)).sessions;
    expect(sessions).toHaveLength(2);
    expect(doc.sessions).toEqual(sessions);
    expect(doc.factors).toEqual((await expectStatus(v1.mfa.factors.$get(), 200)).factors);
    expect(doc.recoveryCodes).toEqual(await expectStatus(v1.mfa["recovery-codes"].$get(), 200));
    expect(doc.recoveryCodes.remaining).toBe(enrolled.recoveryCodes.length);
    expect(doc.tenants).toEqual((await expectStatus(v1.tenants.$get(), 200)).tenants);
    const history = [
      ...(await expectStatus(v1.consents.history.$get({ query: {} }), 200)).consents,
      ...(await expectStatus(v1.consents.history.$get({ query: { tenantId } }), 200)).consents,
    ].sort((a, b) => (a.id < b.id ? 1 : -1));
    expect(history).toHaveLength(4);
    expect(doc.consents).toEqual(history);
    const shown = [
      ...(await expectStatus(prefs.$get({ query: {} }), 200)).preferences,
      ...(await expectStatus(prefs.$get({ query: { tenantId } }), 200)).preferences,
    ];
    expect(shown).toHaveLength(2);
    expect(doc.notificationPreferences).toEqual(shown);
    const { period: _a, ...global } = counted.counter;
    const { period: _b, ...tenantCounter } = inTenant.counter;
    expect(doc.usage).toEqual([global, tenantCounter]);
    expect(global.total).toBe(3);
    const events = await allEvents(m, user.token);
    expect(doc.securityEvents).toEqual(events);
    expect(events.map((e) => e.type)).toContain("user.data_exported");

    // Nothing secret: the password, both session tokens, the TOTP secret, the recovery codes, and
    // every hash or ciphertext the database keeps of them.
    const { db, t } = m.open();
    const [stored] = await db
      .select({ hash: t.users.passwordHash })
      .from(t.users)
      .where(eq(t.users.id, user.userId));
    const hashes = [
      stored!.hash,
      ...(
        await db
          .select({ v: t.userSessions.tokenHash })
          .from(t.userSessions)
          .where(eq(t.userSessions.userId, user.userId))
      ).map((r) => r.v),
      ...(
        await db
          .select({ v: t.userRecoveryCodes.codeHash })
          .from(t.userRecoveryCodes)
          .where(eq(t.userRecoveryCodes.userId, user.userId))
      ).map((r) => r.v),
      ...(
        await db
          .select({ v: t.userMfaMethods.secretCiphertext })
          .from(t.userMfaMethods)
          .where(eq(t.userMfaMethods.userId, user.userId))
      ).map((r) => r.v),
      ...(
        await db
          .select({ v: t.emailTokens.tokenHash })
          .from(t.emailTokens)
          .where(eq(t.emailTokens.userId, user.userId))
      ).map((r) => r.v),
      ...(
        await db
          .select({ v: t.mfaChallenges.tokenHash })
          .from(t.mfaChallenges)
          .where(eq(t.mfaChallenges.userId, user.userId))
      ).map((r) => r.v),
    ];
    expect(hashes.length).toBeGreaterThan(2 + enrolled.recoveryCodes.length + 1);
    const secrets = [user.password, user.token, second, enrolled.secret, ...enrolled.recoveryCodes];
    const needles = [
      ...secrets,
      ...enrolled.recoveryCodes.map((c) => c.replaceAll("-", "")),
      ...hashes.filter((v): v is string => v !== null),
    ];
    expect(findInDump(new Map([["export", text]]), needles)).toEqual([]);
    // The same scan finds what the export does hold.
    expect(findInDump(new Map([["export", text]]), [user.email])).not.toEqual([]);
  });

  it("needs a recent authentication or the password to export", async () => {
    const m = fresh();
    const user = await signUp(m);
    m.clock.advance(6 * MINUTE);
    const exporting = (json: { currentPassword?: string }) => api(m, user.token).v1.me.export.$post({ json });
    const stale = await expectStatus(exporting({}), 403);
    expect(stale.code).toBe("reauthentication_required");
    const wrong = await expectStatus(exporting({ currentPassword: "not the password" }), 401);
    expect(wrong.code).toBe("invalid_credentials");
    const { doc } = await exportAccount(m, user.token, { currentPassword: user.password });
    const types = doc.securityEvents.map((e: { type: string }) => e.type);
    expect(types.slice(0, 2)).toEqual(["user.data_exported", "auth.reauthenticated"]);
    // The password made the session recent: no password needed for a while.
    await exportAccount(m, user.token);
  });

  it("exports tens of thousands of events completely, reading them page by page", async () => {
    const m = fresh();
    const user = await signUp(m);
    const scope = {
      requestId: "bulk",
      now: new Date(m.clock.now()),
      client: { hashes: async () => ({ ipHash: null, userAgentHash: null }) },
    };
    const bulk = 3_000;
    const database = m.open();
    const { t } = database;
    // Ten rows per statement (D1 binds at most 100 values), a hundred statements per batch.
    for (let batch = 0; batch < bulk / 1000; batch++) {
      const statements = await Promise.all(
        Array.from({ length: 100 }, async () =>
          Promise.all(
            Array.from({ length: 10 }, () =>
              securityEventRow(scope as never, {
                type: "auth.login_failed",
                userId: user.userId,
                metadata: { bulk: true },
              }),
            ),
          ),
        ),
      );
      await database.atomic(
        (db) => statements.flatMap((rows) => insertSecurityEvents(db, t, rows)) as [never, ...never[]],
      );
    }
    const total = await countFor(m, "securityEvents", user.userId);
    expect(total).toBeGreaterThan(bulk);

    const pages: number[] = [];
    for await (const page of securityEventPages(m.open(), user.userId)) pages.push(page.length);
    expect(pages).toEqual([EXPORT_PAGE_SIZE, EXPORT_PAGE_SIZE, EXPORT_PAGE_SIZE, total - bulk]);

    const { doc } = await exportAccount(m, user.token);
    // The export adds its own event.
    expect(doc.securityEvents).toHaveLength(total + 1);
    const ids = doc.securityEvents.map((e: { id: string }) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort().reverse()).toEqual(ids);
    expect(doc.securityEvents.filter((e: { metadata: { bulk?: boolean } }) => e.metadata.bulk)).toHaveLength(
      bulk,
    );
    // One statement per page of events and of each other list, not one per row.
    expect(m.lastRequestDb()!.stats.statements).toBeLessThan(30);
  });

  it("deletes the account: personal data erased, consents and events kept, old credentials refused", async () => {
    const m = fresh();
    const displayName = `Gone ${crypto.randomUUID()}`;
    const user = await signUpNamed(m, displayName);
    const other = await signUpNamed(m, `Stays ${crypto.randomUUID()}`);
    const v1 = api(m, user.token).v1;
    const secondLogin = await expectStatus(
      api(m).v1.auth.login.$post({ json: { email: user.email, password: user.password } }),
      200,
    );
    if (secondLogin.status !== "authenticated") throw new Error("no second factor");
    const solo = await createTenant(m, user, "Solo");
    await expectStatus(
      v1.consents.$post({ json: { policy: "privacy", version: "1", decision: "granted" } }),
      201,
    );
    await expectStatus(
      v1.consents.$post({ json: { policy: "terms", version: "1", decision: "granted", tenantId: solo } }),
      201,
    );
    await expectStatus(
      v1["notification-preferences"].$put({ json: { channel: "sms", category: "news", enabled: true } }),
      200,
    );
    await expectStatus(
      v1["notification-preferences"].$put({
        json: { channel: "sms", category: "news", enabled: false, tenantId: solo },
      }),
      200,
    );
    await expectStatus(
      v1.usage.$post({ json: { feature: "api", quantity: 1 }, header: { "idempotency-key": "del-1" } }),
      200,
    );
    await expectStatus(
      v1.usage.$post({ json: { feature: "api", quantity: 1, tenantId: solo }, header: {} }),
      200,
    );
    // A pending invitation to the address, from a tenant of someone else.
    const othersTenant = await createTenant(m, other, "Other");
    {
      const { db, t } = m.open();
      await db.insert(t.tenantInvitations).values({
        id: uuidv7(),
        tenantId: othersTenant,
        email: user.email,
        role: "member",
        tokenHash: crypto.randomUUID(),
        invitedBy: other.userId,
        createdAt: new Date(m.clock.now()),
        expiresAt: new Date(m.clock.now() + 7 * DAY),
      });
    }
    const { db, t } = m.open();
    const keyId = uuidv7();
    await db.insert(t.apiKeys).values({
      id: keyId,
      tenantId: solo,
      name: "ci",
      scopes: ["usage:write"],
      prefix: "udh_test",
      keyHash: crypto.randomUUID(),
      createdBy: user.userId,
      createdAt: new Date(m.clock.now()),
    });
    const [before] = await db.select().from(t.users).where(eq(t.users.id, user.userId));
    const consents = await countFor(m, "userConsents", user.userId);
    const events = await countFor(m, "securityEvents", user.userId);
    expect(consents).toBe(2);

    await expectStatus(v1.me.$delete({ json: {} }), 204);
    await m.settle();

    // Old sessions and the password: 401.
    await expectStatus(api(m, user.token).v1.me.$get(), 401);
    await expectStatus(api(m, secondLogin.session.token).v1.me.$get(), 401);
    const login = await expectStatus(
      api(m).v1.auth.login.$post({ json: { email: user.email, password: user.password } }),
      401,
    );
    expect(login.code).toBe("invalid_credentials");
    // Evidence kept under the id: every consent, every event plus user.deleted and tenant.deleted.
    expect(await countFor(m, "userConsents", user.userId)).toBe(consents);
    expect(await countFor(m, "securityEvents", user.userId)).toBe(events + 2);
    const kept = await db
      .select({ type: t.securityEvents.type, tenantId: t.securityEvents.tenantId })
      .from(t.securityEvents)
      .where(eq(t.securityEvents.userId, user.userId));
    expect(kept).toEqual(
      expect.arrayContaining([
        { type: "user.deleted", tenantId: null },
        { type: "tenant.deleted", tenantId: solo },
      ]),
    );
    const [tombstone] = await db.select().from(t.users).where(eq(t.users.id, user.userId));
    expect(tombstone).toMatchObject({
      email: `deleted:${user.userId}`,
      passwordHash: "",
      displayName: null,
      emailVerifiedAt: null,
      deletedAt: new Date(m.clock.now()),
    });
    // The tenant only the user belonged to is deleted: name erased, its scoped rows gone.
    const [tenant] = await db.select().from(t.tenantAccounts).where(eq(t.tenantAccounts.id, solo));
    expect(tenant).toMatchObject({ name: "", deletedAt: new Date(m.clock.now()) });
    const [key] = await db.select().from(t.apiKeys).where(eq(t.apiKeys.id, keyId));
    expect(key?.revokedAt).toEqual(new Date(m.clock.now()));
    for (const table of [t.userNotificationPreferences, t.usageCounters, t.tenantMemberships]) {
      expect(await db.select({ n: count() }).from(table).where(eq(table.tenantId, solo))).toEqual([{ n: 0 }]);
    }

    // No row holds the address, the name or the password hash, except the deletion notice.
    const needles = [user.email, displayName, before!.passwordHash];
    expect(findInDump(await dumpTables(m), needles)).toEqual([
      { table: "outboxMessages", needle: user.email, form: "raw" },
    ]);
    const mail = await messagesTo(m, user.email);
    expect(mail).toEqual([{ kind: "security_notice", payload: { reason: "account_deleted" } }]);
    // Once sent, it is swept after the outbox retention like any message: then nothing is left.
    await db
      .update(t.outboxMessages)
      .set({ status: "sent", sentAt: new Date(m.clock.now()) })
      .where(eq(t.outboxMessages.recipient, user.email));
    await sweepExpired(m.open(), new Date(m.clock.now() + m.config.outbox.retentionMs + MINUTE));
    expect(findInDump(await dumpTables(m), needles)).toEqual([]);
    expect(findInDump(await dumpTables(m), [other.email])).not.toEqual([]);

    // The address registers again, as a new account that sees nothing of the old one.
    const again = await signUp(m, { email: user.email });
    expect(again.userId).not.toBe(user.userId);
    const fresh1 = api(m, again.token).v1;
    expect((await expectStatus(fresh1.consents.$get({ query: {} }), 200)).consents).toEqual([]);
    expect((await expectStatus(fresh1.tenants.$get(), 200)).tenants).toEqual([]);
    const gone = await expectStatus(fresh1.consents.$get({ query: { tenantId: solo } }), 403);
    expect(gone.code).toBe("forbidden");
  });

  it("refuses the last owner of a tenant with other members (409, nothing deleted), and deletes once another owner exists", async () => {
    const m = fresh();
    const owner = await signUp(m);
    const member = await signUp(m);
    const shared = await createTenant(m, owner, "Shared");
    const solo = await createTenant(m, owner, "Solo");
    await addMembership(m, shared, member.userId, "member");
    const refused = await expectStatus(api(m, owner.token).v1.me.$delete({ json: {} }), 409);
    expect(refused.code).toBe("last_owner");
    expect((await expectStatus(api(m, owner.token).v1.tenants.$get(), 200)).tenants).toHaveLength(2);
    expect(await messagesTo(m, owner.email)).not.toContainEqual(
      expect.objectContaining({ kind: "security_notice" }),
    );
    const { db, t } = m.open();
    const [stillThere] = await db.select().from(t.users).where(eq(t.users.id, owner.userId));
    expect(stillThere).toMatchObject({ email: owner.email, deletedAt: null });

    // An admin is not an owner: still refused.
    await db
      .update(t.tenantMemberships)
      .set({ role: "admin" })
      .where(and(eq(t.tenantMemberships.tenantId, shared), eq(t.tenantMemberships.userId, member.userId)));
    await expectStatus(api(m, owner.token).v1.me.$delete({ json: {} }), 409);
    await db
      .update(t.tenantMemberships)
      .set({ role: "owner" })
      .where(and(eq(t.tenantMemberships.tenantId, shared), eq(t.tenantMemberships.userId, member.userId)));
    await expectStatus(api(m, owner.token).v1.me.$delete({ json: {} }), 204);
    // The shared tenant lives on with its other owner; the solo one is gone.
    expect((await expectStatus(api(m, member.token).v1.tenants.$get(), 200)).tenants).toEqual([
      { tenant: expect.objectContaining({ id: shared, name: "Shared" }), role: "owner" },
    ]);
    const [soloRow] = await db.select().from(t.tenantAccounts).where(eq(t.tenantAccounts.id, solo));
    expect(soloRow?.deletedAt).not.toBeNull();
  });

  it("never leaves a shared tenant without an owner when its two owners delete their accounts at once", async () => {
    const m = fresh();
    for (let round = 0; round < 3; round++) {
      const [a, b, member] = await Promise.all([signUp(m), signUp(m), signUp(m)]);
      const shared = await createTenant(m, a!, "Shared");
      await addMembership(m, shared, b!.userId, "owner");
      await addMembership(m, shared, member!.userId, "member");
      const answers = await Promise.all(
        [a!, b!].map((owner) => call(m, "DELETE", "/v1/me", { token: owner.token, json: {} })),
      );
      expect(answers.map((r) => r.status).sort()).toEqual([204, 409]);
      expect(answers.find((r) => r.status === 409)?.body.code).toBe("last_owner");
      const { db, t } = m.open();
      const owners = await db
        .select({ userId: t.tenantMemberships.userId })
        .from(t.tenantMemberships)
        .where(and(eq(t.tenantMemberships.tenantId, shared), eq(t.tenantMemberships.role, "owner")));
      expect(owners).toHaveLength(1);
    }
  });

  it("needs step-up, and with MFA a current code: missing 400, wrong 401, right 204", async () => {
    const m = fresh();
    const user = await signUp(m);
    const enrolled = await enrollTotp(m, user);
    const remove = (json: { currentPassword?: string; code?: string; recoveryCode?: string }) =>
      api(m, user.token).v1.me.$delete({ json });
    m.clock.advance(6 * MINUTE);
    const stale = await expectStatus(remove({ code: codeAt(enrolled.secret, m.clock.now()) }), 403);
    expect(stale.code).toBe("reauthentication_required");
    await expectStatus(remove({ currentPassword: "wrong password!" }), 401);
    const missing = await expectStatus(remove({ currentPassword: user.password }), 400);
    expect(missing.code).toBe("invalid_request");
    const wrong = await expectStatus(
      remove({ code: codeAt(enrolled.secret, m.clock.now() + 10 * MINUTE) }),
      401,
    );
    expect(wrong.code).toBe("invalid_mfa_code");
    await expectStatus(remove({ code: codeAt(enrolled.secret, m.clock.now()) }), 204);
    await expectStatus(api(m, user.token).v1.me.$get(), 401);
    const { db, t } = m.open();
    for (const table of [
      t.userMfaMethods,
      t.userRecoveryCodes,
      t.userSessions,
      t.mfaChallenges,
      t.emailTokens,
    ]) {
      expect(await db.select({ n: count() }).from(table).where(eq(table.userId, user.userId))).toEqual([
        { n: 0 },
      ]);
    }
  });

  it("leaves no live session when logins race the deletion", async () => {
    const m = fresh();
    const user = await signUp(m);
    const logins = Array.from({ length: 10 }, () =>
      call(m, "POST", "/v1/auth/login", { json: { email: user.email, password: user.password } }),
    );
    const [deleted, ...answers] = await Promise.all([
      call(m, "DELETE", "/v1/me", { token: user.token, json: {} }),
      ...logins,
    ]);
    expect(deleted.status).toBe(204);
    const issued: string[] = [];
    for (const a of answers) {
      expect([200, 401], JSON.stringify(a.body)).toContain(a.status);
      if (a.status === 200) {
        // A login that won the race got a session before the deletion, never a challenge.
        expect(a.body.status).toBe("authenticated");
        issued.push(a.body.session.token);
      } else expect(a.body.code).toBe("invalid_credentials");
    }
    for (const token of issued) await expectStatus(api(m, token).v1.me.$get(), 401);
    expect(await countFor(m, "userSessions", user.userId)).toBe(0);
    expect(await countFor(m, "mfaChallenges", user.userId)).toBe(0);
  });

  it("refuses strings a database cannot hold in either body (400)", async () => {
    const m = fresh();
    const user = await signUp(m);
    for (const [method, path, json] of [
      ["POST", "/v1/me/export", { currentPassword: "pass\u0000word" }],
      ["DELETE", "/v1/me", { currentPassword: "pass\u0000word" }],
      ["DELETE", "/v1/me", { code: "12\u00003456" }],
      ["DELETE", "/v1/me", { recoveryCode: "\ud800abc" }],
    ] as const) {
      const res = await call(m, method, path, { token: user.token, json });
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.body.code).toBe("invalid_request");
    }
    await expectStatus(api(m, user.token).v1.me.$get(), 200);
  });
}

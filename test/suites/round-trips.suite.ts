/**
 * Round trips per request ("Edge speed"): on a Worker each round trip to the database (Neon over
 * HTTP, D1) or to the rate-limit store costs a network hop, so the hot paths are held to
 * exact counts, on every backend alike (a batch is one round trip on libSQL, D1 and Postgres):
 * an authenticated read or increment 1, each login step 2 plus 1 limiter round trip, and no
 * endpoint over 3 (a walk through the API prints the table and asserts it).
 *
 * Counts come from each request's log line: what the response waited for. With the SQL
 * rate-limit store (the harness's) the limiter's statements run on the request's database
 * handle, so `appRoundTrips` is the database's count without them. A right answer's limiter
 * refund runs after the response; the tests settle and count it too.
 */
import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import type { Database } from "../../db/database";
import { addMember, createTenant, latestMessage, PASSWORD, type SignedUp, signUp } from "../support/fixtures";
import {
  api,
  call,
  expectStatus,
  type Harness,
  lastRequestCost,
  makeHarness,
  type RequestCost,
} from "../support/harness";
import { challenge, codeAt, enrollTotp, STEP_MS, stepStart } from "../support/mfa";

/**
 * Runs `send`, lets its after-response work finish, and checks what the database's front door
 * saw, where the backend counts it (Postgres in workerd, over Neon's HTTP endpoint:
 * Harness.wire), against the handle's own count (`handle`, else the handle of the request `send`
 * made, if it made one): one HTTP request per round trip and nothing else. Each HTTP request
 * stands alone, so no request pays a connection's set-up besides its round trips.
 */
async function checkWire<T>(m: Harness, send: () => Promise<T>, handle?: () => Database): Promise<T> {
  if (!m.wire) return send();
  // Earlier requests' after-response work (a limiter refund) must not land in this count.
  await m.settle();
  const lastBefore = m.lastRequestDb();
  const before = await m.wire();
  const result = await send();
  await m.settle();
  const after = await m.wire();
  const made = m.lastRequestDb();
  const db = handle ? handle() : made !== lastBefore ? made : undefined;
  const roundTrips = db?.stats.roundTrips ?? 0;
  expect(
    after.httpRequests - before.httpRequests,
    `${db?.driver ?? "no database"}: ${roundTrips} round trips counted by the app`,
  ).toBe(roundTrips);
  return result;
}

/** The cost of the request `send` makes (it must answer `status`), checked on the wire where the backend counts it. */
async function costOf(
  m: Harness,
  send: () => Promise<{ status: number; text(): Promise<string> }>,
  status: number,
): Promise<RequestCost> {
  const answer = await checkWire(m, async () => {
    const res = await send();
    return { status: res.status, text: await res.text() };
  });
  expect(answer.status, answer.text).toBe(status);
  return lastRequestCost(m);
}

/** The request's own round trips, exactly. */
const exactly = (appRoundTrips: number, limiterRoundTrips: number) =>
  expect.objectContaining({ appRoundTrips, limiterRoundTrips });

export function roundTripsSuite(h: () => Harness): void {
  const fresh = () => {
    const { backend, open, wire } = h();
    const m = makeHarness({ backend, open, ...(wire ? { wire } : {}) });
    m.clock.set(stepStart(10));
    return m;
  };

  it("sends an atomic batch in one round trip, its values stored exactly (quotes, backslashes, placeholders)", async () => {
    const database = h().open();
    const { t } = database;
    const tricky = ["it's", "back\\slash \\' E'x'", 'say "hi"', "$1 $2 ?", "ünïcödé 🙂", "--", ";"];
    const ids = [crypto.randomUUID(), crypto.randomUUID()];
    const batch = () =>
      database.atomic((db) => [
        db.insert(t.securityEvents).values({
          id: ids[0]!,
          type: "user.registered",
          requestId: tricky.join(" "),
          metadata: { tricky, n: 7 },
          createdAt: new Date(),
        }),
        db
          .select({ requestId: t.securityEvents.requestId, metadata: t.securityEvents.metadata })
          .from(t.securityEvents)
          .where(eq(t.securityEvents.id, ids[0]!)),
      ]);
    const [, second] = await checkWire(h(), batch, () => database);
    // The second statement saw the first (same transaction), in the same round trip.
    expect(database.stats).toEqual({ statements: 2, roundTrips: 1 });
    expect(second).toEqual([{ requestId: tricky.join(" "), metadata: { tricky, n: 7 } }]);
  });

  it("answers GET /v1/me in one round trip: the session lookup is folded into the read", async () => {
    const m = fresh();
    const user = await signUp(m);
    const cost = await costOf(m, () => api(m, user.token).v1.me.$get(), 200);
    expect(cost).toEqual({
      statements: 1,
      roundTrips: 1,
      limiterRoundTrips: 0,
      appRoundTrips: 1,
    });
    // An unknown token costs the same one statement, and writes nothing.
    const unknown = "A".repeat(43);
    expect(await costOf(m, () => api(m, unknown).v1.me.$get(), 401)).toEqual(exactly(1, 0));
    // A malformed one is refused before any lookup.
    expect(await costOf(m, () => api(m, "short").v1.me.$get(), 401)).toEqual(exactly(0, 0));
  });

  it("increments usage in one round trip, globally and in a tenant, with and without an Idempotency-Key", async () => {
    const m = fresh();
    const owner = await signUp(m);
    const tenantId = await createTenant(m, owner);
    const usage = api(m, owner.token).v1.usage;
    const post = (json: { feature: string; quantity: number; tenantId?: string }, key?: string) => () =>
      usage.$post({ header: { "idempotency-key": key }, json });
    for (const scope of [{}, { tenantId }]) {
      const feature = `rt-${crypto.randomUUID().slice(0, 8)}`;
      expect(await costOf(m, post({ feature, quantity: 2, ...scope }), 200)).toEqual(exactly(1, 0));
      const key = crypto.randomUUID();
      expect(await costOf(m, post({ feature, quantity: 3, ...scope }, key), 200)).toEqual(exactly(1, 0));
      // A replay names its caller and reads the stored answer (a tenant's also checks the member).
      expect(await costOf(m, post({ feature, quantity: 3, ...scope }, key), 200)).toEqual(
        exactly("tenantId" in scope ? 3 : 2, 0),
      );
      const read = await expectStatus(usage.$get({ query: { feature, ...scope } }), 200);
      expect(read.total).toBe(5);
    }
    // No live session: 401 after one more lookup, and nothing written.
    const gone = "B".repeat(43);
    const feature = `rt-${crypto.randomUUID().slice(0, 8)}`;
    await expectStatus(api(m, gone).v1.usage.$post({ header: {}, json: { feature, quantity: 1 } }), 401);
    const read = await expectStatus(usage.$get({ query: { feature } }), 200);
    expect(read.total).toBe(0);
  });

  it("logs in without MFA in two round trips and one limiter round trip (its refund after the response)", async () => {
    const m = fresh();
    const user = await signUp(m);
    const login = () => api(m).v1.auth.login.$post({ json: { email: user.email, password: PASSWORD } });
    // The user with its factor types; the limiter's count; the session batch.
    expect(await costOf(m, login, 200)).toEqual(exactly(2, 1));
    await m.settle();
    // Settled: the refund was one more limiter round trip (a statement on the SQL store).
    expect(m.lastRequestDb()!.stats.roundTrips).toBe(2 + 1 + 1);
  });

  it("logs in to an MFA challenge and verifies it in two round trips each, plus one limiter round trip", async () => {
    const m = fresh();
    const user = await signUp(m);
    const { secret } = await enrollTotp(m, user);
    m.clock.advance(STEP_MS);
    const login = () => api(m).v1.auth.login.$post({ json: { email: user.email, password: PASSWORD } });
    expect(await costOf(m, login, 200)).toEqual(exactly(2, 1));
    const token = await challenge(m, user);
    const verify = () =>
      api(m).v1.auth.mfa.verify.$post({
        json: { challengeToken: token, code: codeAt(secret, m.clock.now()) },
      });
    // The claim with the user and its factors; the limiter; the batch spending the code and the
    // challenge with the session.
    expect(await costOf(m, verify, 200)).toEqual(exactly(2, 1));
    await m.settle();
    expect(m.lastRequestDb()!.stats.roundTrips).toBe(2 + 1 + 1);
    // The same code again (a new challenge): refused as replayed (the step read with the
    // challenge is taken), its failure recorded.
    const again = await challenge(m, user);
    const replay = () =>
      api(m).v1.auth.mfa.verify.$post({
        json: { challengeToken: again, code: codeAt(secret, m.clock.now()) },
      });
    expect(await costOf(m, replay, 401)).toEqual(exactly(2, 1));
  });

  it("answers a wrong password in two round trips and one limiter round trip, with nothing to refund", async () => {
    const m = fresh();
    const user = await signUp(m);
    const wrong = () =>
      api(m).v1.auth.login.$post({ json: { email: user.email, password: "not the password" } });
    // The user; the limiter's count; the failure's event.
    expect(await costOf(m, wrong, 401)).toEqual(exactly(2, 1));
    await m.settle();
    expect(m.lastRequestDb()!.stats.roundTrips).toBe(2 + 1);
  });

  it("keeps every endpoint at three round trips or fewer (or its listed exception), plus one limiter round trip: a walk through the API", async () => {
    const m = fresh();
    const steps = await walk(m);
    const worst = new Map<string, RequestCost & { status: number }>();
    for (const line of m.logs) {
      if (line.msg !== "request" || typeof line.route !== "string") continue;
      const operation = `${line.method} ${line.route}`;
      const roundTrips = Number(line.roundTrips);
      const limiterRoundTrips = Number(line.limiterRoundTrips);
      const cost = {
        statements: Number(line.statements),
        roundTrips,
        limiterRoundTrips,
        appRoundTrips: roundTrips - limiterRoundTrips,
        status: Number(line.status),
      };
      const seen = worst.get(operation);
      if (!seen || cost.appRoundTrips > seen.appRoundTrips) worst.set(operation, cost);
    }
    const table = [...worst]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(
        ([op, c]) =>
          `${op.padEnd(60)} ${String(c.status).padEnd(4)} db ${c.appRoundTrips}  limiter ${c.limiterRoundTrips}  statements ${c.statements}`,
      );
    console.log(`[${h().backend}] round trips per request (worst seen per route)\n${table.join("\n")}`);
    expect(worst.size).toBeGreaterThanOrEqual(steps);
    // Every route within its budget (3, or its entry in OVER_BUDGET, exactly) and one limiter round trip.
    const outside = [...worst]
      .filter(([op, c]) => c.appRoundTrips > (OVER_BUDGET[op] ?? 3) || c.limiterRoundTrips > 1)
      .map(([op, c]) => `${op}: db ${c.appRoundTrips}, limiter ${c.limiterRoundTrips}`);
    expect(outside).toEqual([]);
    // An exception that got cheaper comes off the list (or gets its new count).
    const measured = Object.fromEntries(
      Object.keys(OVER_BUDGET).map((op) => [op, worst.get(op)?.appRoundTrips]),
    );
    expect(measured).toEqual(OVER_BUDGET);
  });
}

/**
 * The routes still over three database round trips in the walk below, with their exact count:
 * the next cuts. A step-up reads the password hash with what the route reads anyway and puts
 * the session's mark with its event into the route's batch (auth/step-up.ts); the export counts
 * what precedes its response (its pages stream after it). A TOTP code is spent in the batch of
 * what it gates (factor removal, recovery codes: stores/factors.ts spendTotpStepWith), and the
 * TOTP confirmation records the enrollment code's step in the batch that confirms the factor
 * (confirmPendingTotp), having read the factor count with the factor.
 * Member removal and invitation read the caller's membership with what they check (the member's
 * role, the address) in one statement; accepting an invitation reads it with the account and
 * reads the tenant back in its batch.
 */
const OVER_BUDGET: Record<string, number> = {};

/**
 * Walks the API as a client would, every answer a success: accounts, sessions, tenants,
 * tenant data, API keys and the service routes, email and password flows, MFA, export and
 * deletion, each call checked on the wire where it is counted (checkWire). Returns how many
 * distinct operations it called.
 */
async function walk(m: Harness): Promise<number> {
  const operations = new Set<string>();
  const ok = async (method: string, path: string, opts: Parameters<typeof call>[3] = {}) => {
    const res = await checkWire(m, () => call(m, method, path, opts));
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
    operations.add(`${method} ${path.replace(/[0-9a-f-]{36}/g, "{id}").split("?")[0]}`);
    return res.body;
  };
  await ok("GET", "/healthz");
  await ok("GET", "/readyz");
  const owner: SignedUp = await signUp(m);
  const member: SignedUp = await signUp(m);
  const token = owner.token;
  await ok("GET", "/v1/me", { token });
  await ok("GET", "/v1/auth/sessions", { token });
  const tenantId = await createTenant(m, owner);
  await ok("GET", "/v1/tenants", { token });
  await addMember(m, tenantId, owner, member);
  await ok("POST", "/v1/consents", {
    token,
    json: { policy: "tos", version: "1", decision: "granted", tenantId },
  });
  await ok("GET", `/v1/consents?tenantId=${tenantId}`, { token });
  await ok("GET", `/v1/consents/history?policy=tos&tenantId=${tenantId}`, { token });
  const preference = { channel: "email", category: "news", enabled: true };
  await ok("PUT", "/v1/notification-preferences", { token, json: { ...preference, tenantId } });
  await ok("GET", `/v1/notification-preferences?tenantId=${tenantId}`, { token });
  await ok("POST", "/v1/usage", { token, json: { feature: "api", quantity: 1, tenantId } });
  await ok("GET", `/v1/usage?feature=api&tenantId=${tenantId}`, { token });
  await ok("GET", "/v1/security-events", { token });
  await ok("GET", `/v1/tenants/${tenantId}/security-events`, { token });
  const created = await ok("POST", `/v1/tenants/${tenantId}/api-keys`, {
    token,
    json: {
      name: "k",
      scopes: [
        "sessions:introspect",
        "usage:write",
        "usage:read",
        "preferences:read",
        "consents:read",
        "events:read",
      ],
    },
  });
  await ok("GET", `/v1/tenants/${tenantId}/api-keys`, { token });
  const key = { authorization: `Bearer ${created.key}` };
  await ok("POST", "/v1/service/introspect", { headers: key, json: { token: member.token } });
  await ok("POST", "/v1/service/usage", {
    headers: key,
    json: { userId: member.userId, feature: "api", quantity: 1 },
  });
  await ok("GET", "/v1/service/usage", { headers: key });
  await ok("GET", `/v1/service/users/${member.userId}/notification-preferences`, { headers: key });
  await ok("GET", `/v1/service/users/${member.userId}/consents`, { headers: key });
  await ok("GET", "/v1/service/security-events", { headers: key });
  await ok("DELETE", `/v1/tenants/${tenantId}/api-keys/${created.apiKey.id}`, { token });
  await ok("DELETE", `/v1/tenants/${tenantId}/members/${member.userId}`, { token });

  // Email and password.
  const unverified = await signUp(m, { verified: false });
  await ok("POST", "/v1/auth/email/verify/resend", { token: unverified.token });
  const newEmail = `moved-${crypto.randomUUID().slice(0, 8)}@example.test`;
  await ok("POST", "/v1/auth/email/change", {
    token: member.token,
    json: { newEmail, currentPassword: PASSWORD },
  });
  const link = await latestMessage(m, newEmail, "email_change");
  await ok("POST", "/v1/auth/email/change/confirm", { json: { token: link?.payload.token } });
  await ok("POST", "/v1/auth/password/forgot", { json: { email: newEmail } });
  const reset = await latestMessage(m, newEmail, "password_reset");
  const newPassword = "another fine passphrase";
  await ok("POST", "/v1/auth/password/reset", { json: { token: reset?.payload.token, newPassword } });
  const relogged = await ok("POST", "/v1/auth/login", { json: { email: newEmail, password: newPassword } });
  await ok("POST", "/v1/auth/password/change", {
    token: relogged.session.token,
    json: { currentPassword: newPassword, newPassword: PASSWORD },
  });

  // MFA: enrollment, recovery codes, a login through the challenge, removal.
  const { factorId, secret } = await enrollTotp(m, owner);
  await ok("GET", "/v1/mfa/factors", { token });
  await ok("GET", "/v1/mfa/recovery-codes", { token });
  m.clock.advance(STEP_MS);
  await ok("POST", "/v1/mfa/recovery-codes", { token, json: { code: codeAt(secret, m.clock.now()) } });
  const challengeToken = await challenge(m, owner);
  m.clock.advance(STEP_MS);
  const signedIn = await ok("POST", "/v1/auth/mfa/verify", {
    json: { challengeToken, code: codeAt(secret, m.clock.now()) },
  });
  const aal2 = signedIn.session.token as string;
  await ok("DELETE", `/v1/auth/sessions/${owner.sessionId}`, { token: aal2 });
  m.clock.advance(STEP_MS);
  await ok("DELETE", `/v1/mfa/factors/${factorId}`, {
    token: aal2,
    json: { code: codeAt(secret, m.clock.now()) },
  });

  // Export, logout, deletion.
  await ok("POST", "/v1/me/export", { token: aal2, json: { currentPassword: PASSWORD } });
  await ok("POST", "/v1/auth/logout", { token: aal2 });
  const last = await signUp(m);
  await ok("DELETE", "/v1/me", { token: last.token, json: { currentPassword: PASSWORD } });
  return operations.size;
}

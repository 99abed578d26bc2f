/** Sessions, logout, expiry, password reset and the development outbox. */
import { expect, it } from "vitest";
import { sweepExpired } from "../../db/sweep";
import { bearerToken, devOutbox, PASSWORD, signUp, uniqueEmail } from "../support/fixtures";
import { api, call, expectStatus, type Harness, lastRequestCost, makeHarness } from "../support/harness";

const NEW_PASSWORD = "an entirely new passphrase";

function login(h: Harness, email: string, password = PASSWORD) {
  return api(h).v1.auth.login.$post({ json: { email, password } });
}

/** Logs in (no MFA) and returns the new session. */
async function loginSession(h: Harness, email: string) {
  const body = await expectStatus(login(h, email), 200);
  if (body.status !== "authenticated") throw new Error("expected a session");
  return body.session;
}

export function sessionsSuite(h: () => Harness): void {
  it("lists live sessions, marks the current one and revokes another", async () => {
    const user = await signUp(h());
    const second = await loginSession(h(), user.email);
    const list = await expectStatus(api(h(), user.token).v1.auth.sessions.$get(), 200);
    expect(list.sessions.map((s) => s.id).sort()).toEqual([user.sessionId, second.id].sort());
    expect(list.sessions.find((s) => s.current)?.id).toBe(user.sessionId);

    await expectStatus(
      api(h(), user.token).v1.auth.sessions[":id"].$delete({ param: { id: second.id } }),
      204,
    );
    await expectStatus(api(h(), second.token).v1.me.$get(), 401);
    const after = await expectStatus(api(h(), user.token).v1.auth.sessions.$get(), 200);
    expect(after.sessions).toHaveLength(1);
    const events = await expectStatus(
      api(h(), user.token).v1["security-events"].$get({ query: { type: "session.revoked" } }),
      200,
    );
    expect(events.events).toHaveLength(1);
  });

  it("answers 404 for an unknown or another user's session and 400 for a malformed id", async () => {
    const a = await signUp(h());
    const b = await signUp(h());
    const sessions = api(h(), a.token).v1.auth.sessions;
    const other = await expectStatus(sessions[":id"].$delete({ param: { id: b.sessionId } }), 404);
    expect(other.code).toBe("not_found");
    await expectStatus(api(h(), b.token).v1.me.$get(), 200);
    await expectStatus(sessions[":id"].$delete({ param: { id: crypto.randomUUID() } }), 404);
    const bad = await expectStatus(sessions[":id"].$delete({ param: { id: "not-a-uuid" } }), 400);
    expect(bad.errors?.[0]?.path).toBe("id");
  });

  it("logs out: the token stops working and the event is recorded", async () => {
    const user = await signUp(h());
    const keep = (await loginSession(h(), user.email)).token;
    await expectStatus(api(h(), user.token).v1.auth.logout.$post(), 204);
    await expectStatus(api(h(), user.token).v1.me.$get(), 401);
    const events = await expectStatus(
      api(h(), keep).v1["security-events"].$get({ query: { type: "auth.logout" } }),
      200,
    );
    expect(events.events).toHaveLength(1);
  });

  it("expires idle sessions, renews on use, and ends every session at its absolute lifetime", async () => {
    const timed = makeHarness({
      backend: h().backend,
      open: h().open,
      env: {
        SESSION_IDLE_TTL_SECONDS: "600",
        SESSION_ABSOLUTE_TTL_SECONDS: "1500",
        SESSION_TOUCH_INTERVAL_SECONDS: "60",
      },
    });
    const start = Date.now();
    timed.clock.set(start);
    const user = await signUp(timed);
    // Used every 9 minutes: the idle expiry moves, until the absolute one (25 min) is reached.
    for (const minutes of [9, 18]) {
      timed.clock.set(start + minutes * 60_000);
      await expectStatus(api(timed, user.token).v1.me.$get(), 200);
      // GET /v1/me pushes the idle expiry after its response (its one round trip is the read).
      await timed.settle();
    }
    timed.clock.set(start + 26 * 60_000);
    await expectStatus(api(timed, user.token).v1.me.$get(), 401);

    const idle = await signUp(timed);
    timed.clock.advance(11 * 60_000);
    await expectStatus(api(timed, idle.token).v1.me.$get(), 401);
  });

  it("costs one statement to answer GET /v1/me (the session lookup is folded into it)", async () => {
    const user = await signUp(h());
    await expectStatus(api(h(), user.token).v1.me.$get(), 200);
    expect(h().lastRequestDb()!.stats.statements).toBe(1);
    expect(lastRequestCost(h()).roundTrips).toBe(1);
  });

  it("costs exactly five statements to log in without MFA, and one more after the response", async () => {
    const email = uniqueEmail();
    await api(h()).v1.auth.register.$post({ json: { email, password: PASSWORD } });
    await expectStatus(login(h(), email), 200);
    // user lookup with its factor types, one statement counting the three password rules (SQL
    // store), then one batch: the user's row lock, the session (only while no factor is
    // verified) and its event. After the response, one statement gives the counts back.
    expect(lastRequestCost(h()).statements).toBe(5);
    await h().settle();
    expect(h().lastRequestDb()!.stats.statements).toBe(6);
  });

  it("resets a password through the outbox, revoking every other session", async () => {
    const dev = makeHarness({ backend: h().backend, open: h().open, env: { APP_ENV: "development" } });
    const user = await signUp(dev);
    await expectStatus(
      api(dev).v1.auth.password.forgot.$post({ json: { email: user.email.toUpperCase() } }),
      202,
    );
    const messages = await devOutbox(dev, user.email.toUpperCase());
    expect(messages).toHaveLength(1);
    const [message] = messages;
    expect(message).toMatchObject({ to: user.email, kind: "password_reset", subject: expect.any(String) });
    expect(message?.text).toContain(encodeURIComponent(message?.token ?? "-"));
    if (!message?.token) throw new Error("a reset message carries its token");

    const resetWith = (newPassword: string) =>
      api(dev).v1.auth.password.reset.$post({ json: { token: message.token, newPassword } });
    const weak = await expectStatus(resetWith("short"), 400);
    expect(weak.code).toBe("weak_password");
    const reset = await expectStatus(resetWith(NEW_PASSWORD), 200);
    expect(reset).toMatchObject({
      status: "authenticated",
      session: { aal: 1 },
      user: { id: user.userId },
    });
    await expectStatus(api(dev, user.token).v1.me.$get(), 401);
    await expectStatus(api(dev, reset.session.token).v1.me.$get(), 200);
    await expectStatus(login(dev, user.email), 401);
    await expectStatus(login(dev, user.email, NEW_PASSWORD), 200);

    const reused = await expectStatus(resetWith(NEW_PASSWORD), 400);
    expect(reused.code).toBe("invalid_token");
    const events = await expectStatus(
      api(dev, reset.session.token).v1["security-events"].$get({ query: {} }),
      200,
    );
    expect(events.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(["auth.password_reset_requested", "auth.password_reset_completed"]),
    );
  });

  it("answers forgot 202 for unknown emails with no message, 400 for malformed ones, and sends at most 3 an hour", async () => {
    const dev = makeHarness({ backend: h().backend, open: h().open, env: { APP_ENV: "development" } });
    const forgot = (email: string) => api(dev).v1.auth.password.forgot.$post({ json: { email } });
    const ghost = uniqueEmail();
    await expectStatus(forgot(ghost), 202);
    expect((await call(dev, "GET", `/v1/dev/outbox?to=${ghost}`)).body.messages).toHaveLength(0);
    await expectStatus(forgot("nope"), 400);
    const user = await signUp(dev);
    for (let i = 0; i < 5; i++) await expectStatus(forgot(user.email), 202);
    expect(await devOutbox(dev, user.email)).toHaveLength(3);
    expect((await call(dev, "GET", "/v1/dev/outbox")).status).toBe(400);
  });

  it("keeps older reset tokens valid until one reset completes, and expires them after 30 minutes", async () => {
    const dev = makeHarness({ backend: h().backend, open: h().open, env: { APP_ENV: "development" } });
    const reset = (token: string) =>
      api(dev).v1.auth.password.reset.$post({ json: { token, newPassword: NEW_PASSWORD } });
    const user = await signUp(dev);
    for (let i = 0; i < 2; i++) await api(dev).v1.auth.password.forgot.$post({ json: { email: user.email } });
    const [first, second] = await devOutbox(dev, user.email);
    await expectStatus(reset(first?.token ?? ""), 200);
    const stale = await expectStatus(reset(second?.token ?? ""), 400);
    expect(stale.code).toBe("invalid_token");

    const other = await signUp(dev);
    await api(dev).v1.auth.password.forgot.$post({ json: { email: other.email } });
    const [msg] = await devOutbox(dev, other.email);
    dev.clock.advance(31 * 60_000);
    const expired = await expectStatus(reset(msg?.token ?? ""), 400);
    expect(expired.code).toBe("invalid_token");
  });

  it("lets exactly one of 10 concurrent resets with one token succeed", async () => {
    const dev = makeHarness({ backend: h().backend, open: h().open, env: { APP_ENV: "development" } });
    const user = await signUp(dev);
    await api(dev).v1.auth.password.forgot.$post({ json: { email: user.email } });
    const [msg] = await devOutbox(dev, user.email);
    if (!msg?.token) throw new Error("a reset message carries its token");
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api(dev).v1.auth.password.reset.$post({
          json: { token: msg.token, newPassword: `${NEW_PASSWORD} ${i}` },
        }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array(9).fill(400)]);
    const winner = await expectStatus(results.find((r) => r.status === 200)!, 200);
    const sessions = await expectStatus(api(dev, winner.session.token).v1.auth.sessions.$get(), 200);
    expect(sessions.sessions).toHaveLength(1);
  });

  it("sweeps rows that expired more than a week ago and keeps live ones", async () => {
    const dev = makeHarness({ backend: h().backend, open: h().open, env: { APP_ENV: "development" } });
    const start = Date.now();
    dev.clock.set(start);
    const old = await signUp(dev);
    await api(dev).v1.auth.password.forgot.$post({ json: { email: old.email } });
    await login(dev, old.email, "wrong password!");
    dev.clock.set(start + 8 * 24 * 3600 * 1000);
    const fresh = await signUp(dev);
    const removed = await sweepExpired(dev.open(), new Date(dev.clock.now()));
    expect(removed.sessions).toBeGreaterThanOrEqual(1);
    expect(removed.passwordResetTokens).toBeGreaterThanOrEqual(1);
    expect(removed.rateLimitBuckets).toBeGreaterThanOrEqual(1);
    await expectStatus(api(dev, fresh.token).v1.me.$get(), 200);
    const { db, t } = dev.open();
    const { eq } = await import("drizzle-orm");
    expect(await db.select().from(t.userSessions).where(eq(t.userSessions.userId, old.userId))).toHaveLength(
      0,
    );
    // Sweeping again finds nothing of those.
    const again = await sweepExpired(dev.open(), new Date(dev.clock.now()));
    expect(again.passwordResetTokens).toBe(0);
  });

  it("keeps events and consents forever by default, and applies a configured retention", async () => {
    const DAY = 24 * 3600 * 1000;
    const dev = makeHarness({ backend: h().backend, open: h().open });
    // This test's old rows lie 100 days in the past: the sweep below then reaches none of the
    // rows other tests wrote into the same database (they are all newer than 30 days).
    const start = Date.now() - 100 * DAY;
    dev.clock.set(start);
    const user = await signUp(dev);
    let token = user.token;
    const consent = (policy: string, decision: "granted" | "revoked") =>
      expectStatus(api(dev, token).v1.consents.$post({ json: { policy, version: "1", decision } }), 201);
    const superseded = await consent("terms", "granted");
    const untouched = await consent("marketing", "granted");
    dev.clock.set(start + DAY);
    token = bearerToken(await loginSession(dev, user.email));
    const replaced = await consent("terms", "revoked");
    dev.clock.set(Date.now());
    token = bearerToken(await loginSession(dev, user.email));
    const recent = await consent("terms", "granted");

    const { db, t } = dev.open();
    const { eq } = await import("drizzle-orm");
    const events = () =>
      db
        .select({ id: t.securityEvents.id })
        .from(t.securityEvents)
        .where(eq(t.securityEvents.userId, user.userId));
    const consentIds = async () =>
      (
        await db
          .select({ id: t.userConsents.id })
          .from(t.userConsents)
          .where(eq(t.userConsents.userId, user.userId))
      )
        .map((r) => r.id)
        .sort();
    const eventsBefore = (await events()).length;
    expect(eventsBefore).toBeGreaterThanOrEqual(5);

    // No retention configured: nothing of either is deleted, however old.
    const none = await sweepExpired(dev.open(), new Date(dev.clock.now()));
    expect([none.securityEvents, none.consents]).toEqual([0, 0]);
    expect(await consentIds()).toHaveLength(4);
    expect(await events()).toHaveLength(eventsBefore);

    // 30 days: the old events go; of the old consents only the superseded ones ("marketing" is
    // older but still the decision in force, so it stays).
    const swept = await sweepExpired(dev.open(), new Date(dev.clock.now()), {
      securityEventRetentionMs: 30 * DAY,
      consentRetentionMs: 30 * DAY,
    });
    expect(swept.consents).toBeGreaterThanOrEqual(2);
    expect(await consentIds()).toEqual([untouched.consent.id, recent.consent.id].sort());
    expect(await consentIds()).not.toContain(superseded.consent.id);
    expect(await consentIds()).not.toContain(replaced.consent.id);
    // Only today's sign-in and consent are younger than 30 days.
    expect(await events()).toHaveLength(2);
    expect(swept.securityEvents).toBeGreaterThanOrEqual(eventsBefore - 2);
  });

  it("has no outbox route outside development", async () => {
    const res = await call(h(), "GET", "/v1/dev/outbox?to=a@example.test");
    expect(res.status).toBe(404);
  });
}

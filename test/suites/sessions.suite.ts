/** Sessions, logout, expiry, password reset and the development outbox. */
import { expect, it } from "vitest";
import { sweepExpired } from "../../db/sweep";
import { PASSWORD, signUp, uniqueEmail } from "../support/fixtures";
import { call, type Harness, makeHarness } from "../support/harness";

const NEW_PASSWORD = "an entirely new passphrase";

async function login(h: Harness, email: string, password = PASSWORD) {
  const res = await call(h, "POST", "/v1/auth/login", { json: { email, password } });
  return res;
}

export function sessionsSuite(h: () => Harness): void {
  it("lists live sessions, marks the current one and revokes another", async () => {
    const user = await signUp(h());
    const second = (await login(h(), user.email)).body.session;
    const list = await call(h(), "GET", "/v1/auth/sessions", { token: user.token });
    expect(list.status).toBe(200);
    expect(list.body.sessions.map((s: { id: string }) => s.id).sort()).toEqual(
      [user.sessionId, second.id].sort(),
    );
    expect(list.body.sessions.find((s: { current: boolean }) => s.current).id).toBe(user.sessionId);

    const del = await call(h(), "DELETE", `/v1/auth/sessions/${second.id}`, { token: user.token });
    expect(del.status).toBe(204);
    expect((await call(h(), "GET", "/v1/me", { token: second.token })).status).toBe(401);
    const after = await call(h(), "GET", "/v1/auth/sessions", { token: user.token });
    expect(after.body.sessions).toHaveLength(1);
    const events = await call(h(), "GET", "/v1/security-events?type=session.revoked", { token: user.token });
    expect(events.body.events).toHaveLength(1);
  });

  it("answers 404 for an unknown or another user's session and 400 for a malformed id", async () => {
    const a = await signUp(h());
    const b = await signUp(h());
    const other = await call(h(), "DELETE", `/v1/auth/sessions/${b.sessionId}`, { token: a.token });
    expect(other.status).toBe(404);
    expect(other.body.code).toBe("not_found");
    expect((await call(h(), "GET", "/v1/me", { token: b.token })).status).toBe(200);
    const unknown = await call(h(), "DELETE", `/v1/auth/sessions/${crypto.randomUUID()}`, { token: a.token });
    expect(unknown.status).toBe(404);
    const bad = await call(h(), "DELETE", "/v1/auth/sessions/not-a-uuid", { token: a.token });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe("id");
  });

  it("logs out: the token stops working and the event is recorded", async () => {
    const user = await signUp(h());
    const keep = (await login(h(), user.email)).body.session.token;
    const out = await call(h(), "POST", "/v1/auth/logout", { token: user.token });
    expect(out.status).toBe(204);
    expect((await call(h(), "GET", "/v1/me", { token: user.token })).status).toBe(401);
    const events = await call(h(), "GET", "/v1/security-events?type=auth.logout", { token: keep });
    expect(events.body.events).toHaveLength(1);
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
      expect((await call(timed, "GET", "/v1/me", { token: user.token })).status).toBe(200);
    }
    timed.clock.set(start + 26 * 60_000);
    expect((await call(timed, "GET", "/v1/me", { token: user.token })).status).toBe(401);

    const idle = await signUp(timed);
    timed.clock.advance(11 * 60_000);
    expect((await call(timed, "GET", "/v1/me", { token: idle.token })).status).toBe(401);
  });

  it("costs one statement to authenticate and one to answer GET /v1/me", async () => {
    const user = await signUp(h());
    const res = await call(h(), "GET", "/v1/me", { token: user.token });
    expect(res.status).toBe(200);
    expect(h().lastRequestDb()!.stats.statements).toBe(2);
  });

  it("costs at most six statements to log in without MFA", async () => {
    const email = uniqueEmail();
    await call(h(), "POST", "/v1/auth/register", { json: { email, password: PASSWORD } });
    const res = await login(h(), email);
    expect(res.status).toBe(200);
    // user lookup, 2 limit peeks (SQL store), factor count, session + event batch (2)
    expect(h().lastRequestDb()!.stats.statements).toBeLessThanOrEqual(6);
  });

  it("resets a password through the outbox, revoking every other session", async () => {
    const dev = makeHarness({ backend: h().backend, open: h().open, env: { APP_ENV: "development" } });
    const user = await signUp(dev);
    const forgot = await call(dev, "POST", "/v1/auth/password/forgot", {
      json: { email: user.email.toUpperCase() },
    });
    expect(forgot.status).toBe(202);
    const outbox = await call(
      dev,
      "GET",
      `/v1/dev/outbox?to=${encodeURIComponent(user.email.toUpperCase())}`,
    );
    expect(outbox.status).toBe(200);
    expect(outbox.body.messages).toHaveLength(1);
    const [message] = outbox.body.messages;
    expect(message).toMatchObject({ to: user.email, kind: "password_reset" });

    const weak = await call(dev, "POST", "/v1/auth/password/reset", {
      json: { token: message.token, newPassword: "short" },
    });
    expect(weak.body.code).toBe("weak_password");
    const reset = await call(dev, "POST", "/v1/auth/password/reset", {
      json: { token: message.token, newPassword: NEW_PASSWORD },
    });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({
      status: "authenticated",
      session: { aal: 1 },
      user: { id: user.userId },
    });
    expect((await call(dev, "GET", "/v1/me", { token: user.token })).status).toBe(401);
    expect((await call(dev, "GET", "/v1/me", { token: reset.body.session.token })).status).toBe(200);
    expect((await login(dev, user.email)).status).toBe(401);
    expect((await login(dev, user.email, NEW_PASSWORD)).status).toBe(200);

    const reused = await call(dev, "POST", "/v1/auth/password/reset", {
      json: { token: message.token, newPassword: NEW_PASSWORD },
    });
    expect(reused.status).toBe(400);
    expect(reused.body.code).toBe("invalid_token");
    const types = (
      await call(dev, "GET", "/v1/security-events", { token: reset.body.session.token })
    ).body.events.map((e: { type: string }) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(["auth.password_reset_requested", "auth.password_reset_completed"]),
    );
  });

  it("answers forgot 202 for unknown emails with no message, 400 for malformed ones, and sends at most 3 an hour", async () => {
    const dev = makeHarness({ backend: h().backend, open: h().open, env: { APP_ENV: "development" } });
    const ghost = uniqueEmail();
    expect((await call(dev, "POST", "/v1/auth/password/forgot", { json: { email: ghost } })).status).toBe(
      202,
    );
    expect((await call(dev, "GET", `/v1/dev/outbox?to=${ghost}`)).body.messages).toHaveLength(0);
    expect((await call(dev, "POST", "/v1/auth/password/forgot", { json: { email: "nope" } })).status).toBe(
      400,
    );
    const user = await signUp(dev);
    for (let i = 0; i < 5; i++) {
      expect(
        (await call(dev, "POST", "/v1/auth/password/forgot", { json: { email: user.email } })).status,
      ).toBe(202);
    }
    expect((await call(dev, "GET", `/v1/dev/outbox?to=${user.email}`)).body.messages).toHaveLength(3);
    expect((await call(dev, "GET", "/v1/dev/outbox")).status).toBe(400);
  });

  it("keeps older reset tokens valid until one reset completes, and expires them after 30 minutes", async () => {
    const dev = makeHarness({ backend: h().backend, open: h().open, env: { APP_ENV: "development" } });
    const user = await signUp(dev);
    for (let i = 0; i < 2; i++)
      await call(dev, "POST", "/v1/auth/password/forgot", { json: { email: user.email } });
    const [first, second] = (await call(dev, "GET", `/v1/dev/outbox?to=${user.email}`)).body.messages;
    const done = await call(dev, "POST", "/v1/auth/password/reset", {
      json: { token: first.token, newPassword: NEW_PASSWORD },
    });
    expect(done.status).toBe(200);
    const stale = await call(dev, "POST", "/v1/auth/password/reset", {
      json: { token: second.token, newPassword: NEW_PASSWORD },
    });
    expect(stale.body.code).toBe("invalid_token");

    const other = await signUp(dev);
    await call(dev, "POST", "/v1/auth/password/forgot", { json: { email: other.email } });
    const [msg] = (await call(dev, "GET", `/v1/dev/outbox?to=${other.email}`)).body.messages;
    dev.clock.advance(31 * 60_000);
    const expired = await call(dev, "POST", "/v1/auth/password/reset", {
      json: { token: msg.token, newPassword: NEW_PASSWORD },
    });
    expect(expired.body.code).toBe("invalid_token");
  });

  it("lets exactly one of 10 concurrent resets with one token succeed", async () => {
    const dev = makeHarness({ backend: h().backend, open: h().open, env: { APP_ENV: "development" } });
    const user = await signUp(dev);
    await call(dev, "POST", "/v1/auth/password/forgot", { json: { email: user.email } });
    const [msg] = (await call(dev, "GET", `/v1/dev/outbox?to=${user.email}`)).body.messages;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call(dev, "POST", "/v1/auth/password/reset", {
          json: { token: msg.token, newPassword: `${NEW_PASSWORD} ${i}` },
        }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array(9).fill(400)]);
    const winner = results.find((r) => r.status === 200)!;
    const sessions = await call(dev, "GET", "/v1/auth/sessions", { token: winner.body.session.token });
    expect(sessions.body.sessions).toHaveLength(1);
  });

  it("sweeps rows that expired more than a week ago and keeps live ones", async () => {
    const dev = makeHarness({ backend: h().backend, open: h().open, env: { APP_ENV: "development" } });
    const start = Date.now();
    dev.clock.set(start);
    const old = await signUp(dev);
    await call(dev, "POST", "/v1/auth/password/forgot", { json: { email: old.email } });
    await call(dev, "POST", "/v1/auth/login", { json: { email: old.email, password: "wrong password!" } });
    dev.clock.set(start + 8 * 24 * 3600 * 1000);
    const fresh = await signUp(dev);
    const removed = await sweepExpired(dev.open(), new Date(dev.clock.now()));
    expect(removed.sessions).toBeGreaterThanOrEqual(1);
    expect(removed.passwordResetTokens).toBeGreaterThanOrEqual(1);
    expect(removed.rateLimitBuckets).toBeGreaterThanOrEqual(1);
    expect((await call(dev, "GET", "/v1/me", { token: fresh.token })).status).toBe(200);
    const { db, t } = dev.open();
    const { eq } = await import("drizzle-orm");
    expect(await db.select().from(t.userSessions).where(eq(t.userSessions.userId, old.userId))).toHaveLength(
      0,
    );
    // Sweeping again finds nothing of those.
    const again = await sweepExpired(dev.open(), new Date(dev.clock.now()));
    expect(again.passwordResetTokens).toBe(0);
  });

  it("has no outbox route outside development", async () => {
    const res = await call(h(), "GET", "/v1/dev/outbox?to=a@example.test");
    expect(res.status).toBe(404);
  });
}

/**
 * Browser clients: CORS for the listed origins, and (SESSION_COOKIE=on) sessions in the
 * `__Host-session` cookie with the Origin check on unsafe methods. The typed client's base URL
 * is http://api.test, so that is the service's own origin here.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../../functions/auth/session-cookie";
import { devOutbox, PASSWORD, type SignedUp, uniqueEmail } from "../support/fixtures";
import { api, call, expectStatus, type Harness } from "../support/harness";
import { challenge, codeAt, enrollTotp, STEP_MS, stepStart } from "../support/mfa";

export const PAGE_ORIGIN = "https://app.example.test";
const OTHER_PAGE_ORIGIN = "https://elsewhere.example.test";
const OWN_ORIGIN = "http://api.test";

/** Cookie mode, as the runners configure it (development: the reset test reads the dev outbox). */
export const COOKIE_MODE_ENV = {
  APP_ENV: "development",
  CORS_ORIGINS: `${PAGE_ORIGIN}, http://localhost:5173`,
  SESSION_COOKIE: "on",
  EMAIL_VERIFICATION: "off",
};
/** Bearer mode (the default) with the same CORS origins. */
export const BEARER_MODE_ENV = { CORS_ORIGINS: PAGE_ORIGIN, EMAIL_VERIFICATION: "off" };

const ALLOWED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const ALLOWED_HEADERS = ["authorization", "content-type", "idempotency-key", "x-request-id"];
const CORS_HEADERS = [
  "access-control-allow-origin",
  "access-control-allow-credentials",
  "access-control-allow-methods",
  "access-control-allow-headers",
  "access-control-expose-headers",
  "access-control-max-age",
];

function preflight(h: Harness, path: string, origin: string, method = "POST") {
  return h.app.request(path, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": "content-type, authorization",
    },
  });
}

const list = (value: string | null) => (value ?? "").split(",").map((v) => v.trim().toLowerCase());

function expectNoCorsHeaders(res: Response) {
  for (const name of CORS_HEADERS) expect(res.headers.get(name), name).toBeNull();
}

/** The `__Host-session` value a Set-Cookie header carries (undefined when none). */
function sessionCookieIn(res: { headers: Headers }): string | undefined {
  const set = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  return set?.slice(SESSION_COOKIE.length + 1).split(";")[0];
}

/** Registers an account and signs in with the password; returns the login answer and its cookie. */
async function cookieSignIn(h: Harness) {
  const email = uniqueEmail("browser");
  const reg = await expectStatus(api(h).v1.auth.register.$post({ json: { email, password: PASSWORD } }), 201);
  const res = await api(h).v1.auth.login.$post({ json: { email, password: PASSWORD } });
  const cookie = sessionCookieIn(res);
  const body = await expectStatus(res, 200);
  if (!cookie || body.status !== "authenticated") throw new Error("expected a session cookie");
  const user: SignedUp = {
    email,
    password: PASSWORD,
    userId: reg.user.id,
    token: cookie,
    sessionId: body.session.id,
  };
  return { res, body, cookie, user };
}

/** An API request authenticated by the cookie alone, with the given Origin (none when undefined). */
function withCookie(
  h: Harness,
  method: string,
  path: string,
  cookie: string,
  origin?: string,
  json?: unknown,
) {
  return call(h, method, `${OWN_ORIGIN}${path}`, {
    headers: { cookie: `${SESSION_COOKIE}=${cookie}`, ...(origin ? { origin } : {}) },
    ...(json !== undefined ? { json } : {}),
  });
}

const preference = { channel: "email", category: "product-news", enabled: false };

/** CORS answers, the same in both modes apart from credentials. */
function corsTests(h: () => Harness, credentials: boolean) {
  it("answers a preflight from a listed origin 204 with the methods, headers and exposed headers", async () => {
    // Paths of every kind: a POST route, a GET-only route, a path with a parameter, an unknown one.
    for (const path of ["/v1/auth/login", "/v1/me", `/v1/tenants/${crypto.randomUUID()}`, "/v1/nope"]) {
      const res = await preflight(h(), path, PAGE_ORIGIN, "DELETE");
      expect(res.status, path).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe(PAGE_ORIGIN);
      expect(list(res.headers.get("access-control-allow-methods")).sort()).toEqual(
        ALLOWED_METHODS.map((m) => m.toLowerCase()).sort(),
      );
      expect(list(res.headers.get("access-control-allow-headers")).sort()).toEqual(
        [...ALLOWED_HEADERS].sort(),
      );
      expect(res.headers.get("access-control-allow-credentials")).toBe(credentials ? "true" : null);
      expect(list(res.headers.get("vary"))).toContain("origin");
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
  });

  it("gives another origin's preflight no CORS header at all (and no 405)", async () => {
    for (const origin of [
      OTHER_PAGE_ORIGIN,
      "null",
      `${PAGE_ORIGIN}.evil.test`,
      "https://APP.example.test",
    ]) {
      const res = await preflight(h(), "/v1/auth/login", origin);
      expect(res.status, origin).toBe(204);
      expectNoCorsHeaders(res);
    }
    const bare = await h().app.request("/v1/me", { method: "OPTIONS" });
    expect(bare.status).toBe(204);
    expect(bare.headers.get("cache-control")).toBe("no-store");
    expectNoCorsHeaders(bare);
  });

  it("lets a listed origin read answers, errors included, with the exposed headers", async () => {
    const res = await h().app.request("/v1/me", { headers: { origin: PAGE_ORIGIN } });
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe(PAGE_ORIGIN);
    expect(res.headers.get("access-control-allow-credentials")).toBe(credentials ? "true" : null);
    expect(list(res.headers.get("access-control-expose-headers"))).toEqual([
      "x-request-id",
      "retry-after",
      "ratelimit-limit",
      "ratelimit-remaining",
      "ratelimit-reset",
    ]);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const other = await h().app.request("/v1/me", { headers: { origin: OTHER_PAGE_ORIGIN } });
    expect(other.status).toBe(401);
    expectNoCorsHeaders(other);
    expect(list(other.headers.get("vary"))).toContain("origin");
  });
}

/** Runs with COOKIE_MODE_ENV. */
export function cookieModeSuite(h: () => Harness) {
  describe("CORS", () => corsTests(h, true));

  describe("session cookie", () => {
    afterEach(() => h().clock.reset());

    it("login sets __Host-session with exactly its attributes and leaves the token out of the body", async () => {
      h().clock.set(Date.UTC(2030, 0, 1, 12));
      try {
        const { res, body, cookie } = await cookieSignIn(h());
        const set = res.headers.getSetCookie();
        expect(set).toHaveLength(1);
        const ttl = h().config.session.absoluteTtlMs;
        const expires = new Date(Date.UTC(2030, 0, 1, 12) + ttl).toUTCString();
        expect(set[0]).toBe(
          `${SESSION_COOKIE}=${cookie}; Max-Age=${ttl / 1000}; Expires=${expires}; Path=/; HttpOnly; Secure; SameSite=Lax`,
        );
        expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
        if (body.status !== "authenticated") throw new Error("expected a session");
        expect(Object.keys(body.session).sort()).toEqual(["aal", "expiresAt", "id"]);
        expect(JSON.stringify(body)).not.toContain(cookie);
      } finally {
        h().clock.reset();
      }
    });

    it("authenticates GET /v1/me with the cookie alone, from any origin or none", async () => {
      const { cookie, user } = await cookieSignIn(h());
      for (const origin of [undefined, OTHER_PAGE_ORIGIN, PAGE_ORIGIN]) {
        const me = await withCookie(h(), "GET", "/v1/me", cookie, origin);
        expect(me.status, String(origin)).toBe(200);
        expect(me.body.user.id).toBe(user.userId);
        expect(me.body.session.id).toBe(user.sessionId);
      }
      expect((await withCookie(h(), "GET", "/v1/me", "x".repeat(43))).status).toBe(401);
    });

    it("refuses an unsafe method with the cookie from a foreign, opaque or missing Origin: 403 csrf_rejected, nothing done", async () => {
      const { cookie } = await cookieSignIn(h());
      for (const origin of [OTHER_PAGE_ORIGIN, "null", undefined, `${OWN_ORIGIN}:8080`, "https://api.test"]) {
        const put = await withCookie(h(), "PUT", "/v1/notification-preferences", cookie, origin, preference);
        expect(put.status, String(origin)).toBe(403);
        expect(put.body.code).toBe("csrf_rejected");
        const logout = await withCookie(h(), "POST", "/v1/auth/logout", cookie, origin);
        expect(logout.status, String(origin)).toBe(403);
        expect(logout.body.code).toBe("csrf_rejected");
        expect(logout.headers.getSetCookie()).toEqual([]);
      }
      const prefs = await withCookie(h(), "GET", "/v1/notification-preferences", cookie);
      expect(prefs.status).toBe(200);
      expect(prefs.body.preferences).toEqual([]);
    });

    it("accepts an unsafe method with the cookie from a listed origin or the service's own", async () => {
      const { cookie } = await cookieSignIn(h());
      for (const [origin, enabled] of [
        [PAGE_ORIGIN, true],
        ["http://localhost:5173", false],
        [OWN_ORIGIN, true],
      ] as const) {
        const put = await withCookie(h(), "PUT", "/v1/notification-preferences", cookie, origin, {
          ...preference,
          enabled,
        });
        expect(put.status, origin).toBe(200);
        expect(put.body.preference.enabled).toBe(enabled);
      }
    });

    it("does not Origin-check bearer requests (the cookie's token as a bearer token)", async () => {
      const { cookie } = await cookieSignIn(h());
      const put = await call(h(), "PUT", "/v1/notification-preferences", {
        token: cookie,
        headers: { origin: OTHER_PAGE_ORIGIN },
        json: preference,
      });
      expect(put.status).toBe(200);
      // The header decides alone: a bad bearer token is 401 even next to a good cookie.
      const bad = await call(h(), "GET", "/v1/me", {
        headers: { authorization: "Bearer nope", cookie: `${SESSION_COOKIE}=${cookie}` },
      });
      expect(bad.status).toBe(401);
    });

    it("logout clears the cookie and revokes the session", async () => {
      const { cookie } = await cookieSignIn(h());
      const res = await withCookie(h(), "POST", "/v1/auth/logout", cookie, PAGE_ORIGIN);
      expect(res.status).toBe(204);
      expect(res.headers.getSetCookie()).toEqual([
        `${SESSION_COOKIE}=; Max-Age=0; Expires=${new Date(0).toUTCString()}; Path=/; HttpOnly; Secure; SameSite=Lax`,
      ]);
      expect((await withCookie(h(), "GET", "/v1/me", cookie)).status).toBe(401);
    });

    it("MFA verify sets the cookie (aal 2) and leaves the token out", async () => {
      h().clock.set(stepStart());
      const { user } = await cookieSignIn(h());
      const enrolled = await enrollTotp(h(), user);
      const challengeToken = await challenge(h(), user);
      // The next step's code: the enrollment's own code cannot be used twice.
      h().clock.advance(STEP_MS);
      const res = await api(h()).v1.auth.mfa.verify.$post({
        json: { challengeToken, code: codeAt(enrolled.secret, h().clock.now()) },
      });
      const cookie = sessionCookieIn(res);
      const body = await expectStatus(res, 200);
      expect(body.session.aal).toBe(2);
      expect(body.session.token).toBeUndefined();
      if (!cookie) throw new Error("no cookie");
      const me = await withCookie(h(), "GET", "/v1/me", cookie);
      expect(me.body.session).toMatchObject({ id: body.session.id, aal: 2 });
    });

    it("password reset sets the cookie and leaves the token out", async () => {
      const { user } = await cookieSignIn(h());
      await expectStatus(api(h()).v1.auth.password.forgot.$post({ json: { email: user.email } }), 202);
      const [message] = await devOutbox(h(), user.email);
      if (!message?.token) throw new Error("no reset message");
      const res = await api(h()).v1.auth.password.reset.$post({
        json: { token: message.token, newPassword: `${PASSWORD} again` },
      });
      const cookie = sessionCookieIn(res);
      const body = await expectStatus(res, 200);
      expect(body.session.token).toBeUndefined();
      if (!cookie) throw new Error("no cookie");
      expect((await withCookie(h(), "GET", "/v1/me", cookie)).body.session.id).toBe(body.session.id);
    });
  });
}

/** Runs with BEARER_MODE_ENV: the default, no cookie anywhere. */
export function bearerModeSuite(h: () => Harness) {
  describe("CORS", () => corsTests(h, false));

  it("sets no cookie, keeps the token in the body and ignores a session cookie", async () => {
    const email = uniqueEmail("bearer");
    await expectStatus(api(h()).v1.auth.register.$post({ json: { email, password: PASSWORD } }), 201);
    const res = await api(h()).v1.auth.login.$post({ json: { email, password: PASSWORD } });
    expect(res.headers.getSetCookie()).toEqual([]);
    const body = await expectStatus(res, 200);
    if (body.status !== "authenticated" || !body.session.token) throw new Error("expected a token");
    const token = body.session.token;
    expect(
      (await call(h(), "GET", "/v1/me", { headers: { cookie: `${SESSION_COOKIE}=${token}` } })).status,
    ).toBe(401);
    expect((await call(h(), "GET", "/v1/me", { token })).status).toBe(200);
    const logout = await call(h(), "POST", "/v1/auth/logout", {
      token,
      headers: { origin: OTHER_PAGE_ORIGIN },
    });
    expect(logout.status).toBe(204);
    expect(logout.headers.getSetCookie()).toEqual([]);
  });
}

/**
 * Browser clients in a real browser: headless Chromium against the Node entry
 * (functions/node.ts, libSQL) with CORS_ORIGINS and SESSION_COOKIE=on. Two page servers on other
 * ports of the same host: one origin listed in CORS_ORIGINS, one not. Ports of one host are the
 * same *site* (SameSite=Lax sends the cookie between them, even on a cross-origin form POST),
 * so the page that is not listed really reaches the Origin check, which must refuse it.
 *
 * Everything is served as http://localhost:<port>: Chromium counts localhost as a secure
 * context and keeps Secure (and so __Host-) cookies that plain-HTTP localhost sets.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../../functions/auth/session-cookie";
import { launchChromium } from "../support/chromium";
import { type ChildScript, startScript } from "../support/server-process";

const PASSWORD = "browser correct horse battery";

/** A page server: every path answers the same small HTML page. */
async function pageServer(html: (origin: string) => string): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html(origin));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  return { server, origin };
}

const closeServer = (server: Server | undefined) =>
  new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));

describe("a browser on a listed origin signs in with the session cookie", () => {
  let api: ChildScript | undefined;
  let apiOrigin: string;
  let allowed: { server: Server; origin: string } | undefined;
  let foreign: { server: Server; origin: string } | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  const dataDir = mkdtempSync(join(tmpdir(), "udh-browser-"));

  beforeAll(async () => {
    allowed = await pageServer(() => "<!doctype html><title>app</title><p>the app</p>");
    // The foreign page holds a plain HTML form aimed at the API: the classic CSRF.
    let apiBase = "";
    foreign = await pageServer(
      () =>
        `<!doctype html><title>elsewhere</title><form id="csrf" method="post" action="${apiBase}/v1/auth/logout"><button>go</button></form>`,
    );
    api = await startScript({
      script: "functions/node.ts",
      env: {
        DATABASE_URL: `file:${join(dataDir, "api.db")}`,
        PORT: "0",
        HOST: "127.0.0.1",
        APP_ENV: "test",
        IP_HASH_KEY: randomBytes(32).toString("base64"),
        ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
        RATE_LIMIT_STORE: "sql",
        MAIL_TRANSPORT: "log",
        EMAIL_VERIFICATION: "off",
        CORS_ORIGINS: allowed.origin,
        SESSION_COOKIE: "on",
      },
      timeoutMs: 60_000,
    });
    apiOrigin = `http://localhost:${api.ready.port}`;
    apiBase = apiOrigin;
    browser = await launchChromium();
    context = await browser.newContext();
  });

  afterAll(async () => {
    await browser?.close();
    await api?.stop();
    await Promise.all([closeServer(allowed?.server), closeServer(foreign?.server)]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Runs fetch in the page with credentials: "include"; answers status, body and any fetch error. */
  async function pageFetch(page: import("playwright-core").Page, path: string, init: RequestInit = {}) {
    return page.evaluate(
      async ({ url, init }) => {
        try {
          const res = await fetch(url, { ...init, credentials: "include" });
          const text = await res.text();
          return {
            status: res.status,
            body: text ? JSON.parse(text) : null,
            requestId: res.headers.get("x-request-id"),
          };
        } catch (error) {
          return { status: 0, body: null, error: String(error) };
        }
      },
      { url: `${apiOrigin}${path}`, init },
    );
  }

  const postJson = (body: unknown): RequestInit => ({
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

  it("keeps the session in an HttpOnly cookie, refuses a cross-origin form POST, and logs out", async () => {
    if (!allowed || !foreign) throw new Error("page servers not started");
    const app = await context.newPage();
    await app.goto(allowed.origin);
    const email = `browser-${crypto.randomUUID()}@example.test`;

    // Register and sign in from the listed origin (preflighted JSON POSTs).
    const registered = await pageFetch(app, "/v1/auth/register", postJson({ email, password: PASSWORD }));
    expect(registered.status, JSON.stringify(registered)).toBe(201);
    const login = await pageFetch(app, "/v1/auth/login", postJson({ email, password: PASSWORD }));
    expect(login.status, JSON.stringify(login)).toBe(200);
    expect(login.body.status).toBe("authenticated");
    expect(login.body.session.token).toBeUndefined();
    // Exposed to the page through Access-Control-Expose-Headers.
    expect(login.requestId).toMatch(/./);

    // The browser stored the cookie as the API set it, and page script cannot read it (the
    // page shares the cookie jar of localhost, ports apart, so only HttpOnly hides it).
    const cookies = await context.cookies(apiOrigin);
    const session = cookies.find((c) => c.name === SESSION_COOKIE);
    expect(session).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: "Lax",
      path: "/",
      domain: "localhost",
    });
    expect(await app.evaluate<string>("document.cookie")).not.toContain(SESSION_COOKIE);

    // The cookie authenticates the page's fetches.
    const me = await pageFetch(app, "/v1/me");
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(email);
    expect(me.body.session.id).toBe(login.body.session.id);

    // The foreign page (same site, other origin, not listed) cannot read the API...
    const elsewhere = await context.newPage();
    await elsewhere.goto(foreign.origin);
    const read = await pageFetch(elsewhere, "/v1/me");
    expect(read.status).toBe(0);
    expect(read.error).toMatch(/Failed to fetch/);
    // ...and its form POST, which carries the cookie (same site, Lax), is refused by the Origin check.
    const answered = elsewhere.waitForResponse((r) => r.url() === `${apiOrigin}/v1/auth/logout`);
    await elsewhere.click("#csrf button");
    const refused = await answered;
    expect(refused.status()).toBe(403);
    expect((await refused.request().allHeaders()).cookie).toContain(`${SESSION_COOKIE}=`);
    expect(((await refused.json()) as { code: string }).code).toBe("csrf_rejected");

    // The session survived the forged logout.
    expect((await pageFetch(app, "/v1/me")).status).toBe(200);

    // A logout from the listed origin ends it and clears the cookie.
    const logout = await pageFetch(app, "/v1/auth/logout", { method: "POST" });
    expect(logout.status).toBe(204);
    expect((await context.cookies(apiOrigin)).find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
    expect((await pageFetch(app, "/v1/me")).status).toBe(401);
  }, 120_000);
});

/**
 * Passkeys end to end in a real browser: headless Chromium with the DevTools virtual
 * authenticator (CTAP2, internal transport, resident keys, user verification) on the example
 * page (examples/passkeys/), served with the API by the Node entry in APP_ENV=development (the
 * same app as `npm run dev`'s Worker, without wrangler's slow start). Sign up and verify through
 * the dev outbox, register a passkey, sign out, sign in without a password, then a password
 * login answered with the passkey as the second factor.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/chromium";
import { freePort } from "../support/ports";
import { type ChildScript, startScript } from "../support/server-process";

describe("passkeys in Chromium with a virtual authenticator", () => {
  let server: ChildScript | undefined;
  let browser: Browser | undefined;
  let origin = "";
  const dbFile = join(tmpdir(), `passkeys-browser-${randomUUID()}.db`);

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://localhost:${port}`;
    const secret = () => randomBytes(32).toString("base64");
    server = await startScript({
      script: "functions/node.ts",
      env: {
        APP_ENV: "development",
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_URL: `file:${dbFile}`,
        IP_HASH_KEY: secret(),
        ENCRYPTION_KEYS: `k1:${secret()}`,
        RATE_LIMIT_STORE: "sql",
        WEBAUTHN_RP_ID: "localhost",
        WEBAUTHN_ORIGINS: origin,
      },
      timeoutMs: 60_000,
    });
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dbFile, { force: true });
  });

  /** Clicks a button of the page and waits for the status it should end in (an error fails fast). */
  async function run(page: Page, button: string, status: string) {
    await page.click(`#${button}`);
    await expect
      .poll(
        async () => {
          const text = (await page.textContent("#status")) ?? "";
          return text === status || text.startsWith("error");
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    const shown = await page.textContent("#status");
    expect(shown, (await page.textContent("#log")) ?? "").toBe(status);
  }

  it("registers a passkey, signs out, signs in without a password, and answers MFA with it", async () => {
    if (!browser) throw new Error("no browser");
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    await page.goto(`${origin}/examples/passkeys/`);
    const email = `browser-${randomUUID().slice(0, 8)}@example.test`;
    await page.fill("#email", email);
    await page.fill("#password", "browser correct horse battery");

    await run(page, "sign-up", "signed up");
    expect(await page.textContent("#session")).toBe("aal 1");
    await run(page, "register-passkey", "passkey registered");
    expect(await page.textContent("#session")).toBe("aal 2");
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]?.isResidentCredential).toBe(true);

    await run(page, "sign-out", "signed out");
    expect(await page.textContent("#session")).toBe("none");
    await run(page, "passkey-sign-in", "signed in with passkey");
    expect(await page.textContent("#session")).toBe("aal 2");
    expect(await page.textContent("#log")).toContain(email);

    await run(page, "sign-out", "signed out");
    await run(page, "log-in", "mfa required");
    expect(await page.textContent("#log")).toContain("webauthn");
    await run(page, "mfa-passkey", "logged in with passkey as second factor");
    expect(await page.textContent("#session")).toBe("aal 2");
    // The authenticator's counter moved with each use (the server stores and checks it).
    const after = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    expect(after.credentials[0]?.signCount).toBeGreaterThanOrEqual(2);
    await context.close();
  }, 120_000);

  it("serves the example page and its script on the API's origin", async () => {
    const page = await fetch(`${origin}/examples/passkeys/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="passkeys.js">');
    const script = await fetch(`${origin}/examples/passkeys/passkeys.js`);
    expect(script.headers.get("content-type")).toContain("javascript");
    expect(await script.text()).toContain("navigator.credentials.create");
  });
});

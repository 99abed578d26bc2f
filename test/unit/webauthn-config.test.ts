/** WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS are checked at start-up: a bad relying party never serves a request. */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../functions/config";

const SECRETS = { IP_HASH_KEY: "k".repeat(32), ENCRYPTION_KEYS: `k1:${btoa("x".repeat(32))}` };
const load = (env: Record<string, string>) => loadConfig({ ...SECRETS, ...env }).webauthn;

describe("WebAuthn configuration", () => {
  it("defaults to the development relying party, named after the product", () => {
    expect(load({ APP_ENV: "development" })).toEqual({
      rpId: "localhost",
      rpName: "User Data Hardening",
      origins: ["http://localhost:8787"],
    });
  });

  it("accepts https origins on the RP id or its subdomains", () => {
    const config = load({
      APP_ENV: "production",
      WEBAUTHN_RP_ID: "Example.com",
      WEBAUTHN_ORIGINS: "https://example.com, https://app.example.com:8443",
      WEBAUTHN_RP_NAME: "Example",
    });
    expect(config).toEqual({
      rpId: "example.com",
      rpName: "Example",
      origins: ["https://example.com", "https://app.example.com:8443"],
    });
  });

  it.each([
    [{ WEBAUTHN_RP_ID: "example.com", WEBAUTHN_ORIGINS: "https://example.org" }, "WEBAUTHN_RP_ID"],
    [{ WEBAUTHN_RP_ID: "example.com", WEBAUTHN_ORIGINS: "https://notexample.com" }, "WEBAUTHN_RP_ID"],
    [{ WEBAUTHN_RP_ID: "app.example.com", WEBAUTHN_ORIGINS: "https://example.com" }, "WEBAUTHN_RP_ID"],
    [{ WEBAUTHN_RP_ID: "example.com", WEBAUTHN_ORIGINS: "http://example.com" }, "https"],
    [{ WEBAUTHN_RP_ID: "localhost", WEBAUTHN_ORIGINS: "http://localhost:8787" }, "https"],
    [{ WEBAUTHN_RP_ID: "example.com", WEBAUTHN_ORIGINS: "https://example.com/app" }, "bare origins"],
    [{ WEBAUTHN_RP_ID: "example.com", WEBAUTHN_ORIGINS: "not a url" }, "WEBAUTHN_ORIGINS"],
    [{ WEBAUTHN_RP_ID: "https://example.com", WEBAUTHN_ORIGINS: "https://example.com" }, "host name"],
    [{ WEBAUTHN_RP_ID: "example.com", WEBAUTHN_ORIGINS: " , " }, "at least one"],
  ])("refuses %j in production (%s)", (env, message) => {
    expect(() => load({ APP_ENV: "production", ...env })).toThrow(message);
  });

  it("accepts http://localhost when configured only in development and test", () => {
    for (const APP_ENV of ["development", "test"]) {
      expect(load({ APP_ENV, WEBAUTHN_ORIGINS: "http://localhost:3000" }).origins).toEqual([
        "http://localhost:3000",
      ]);
    }
    expect(() => load({ APP_ENV: "preview", WEBAUTHN_ORIGINS: "http://localhost:3000" })).toThrow("https");
  });
});

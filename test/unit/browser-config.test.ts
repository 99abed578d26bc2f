import { describe, expect, it } from "vitest";
import { loadConfig } from "../../functions/config";

const base = { IP_HASH_KEY: "k".repeat(32), ENCRYPTION_KEYS: "k1:x" };

describe("browser client configuration", () => {
  it("defaults to no CORS origin and no session cookie", () => {
    expect(loadConfig(base).browser).toEqual({ corsOrigins: [], sessionCookie: false });
  });

  it("reads a comma-separated list of exact origins and SESSION_COOKIE=on", () => {
    const config = loadConfig({
      ...base,
      CORS_ORIGINS: " https://app.example.com ,http://localhost:5173,,https://[::1]:8443",
      SESSION_COOKIE: "on",
    });
    expect(config.browser).toEqual({
      corsOrigins: ["https://app.example.com", "http://localhost:5173", "https://[::1]:8443"],
      sessionCookie: true,
    });
  });

  it.each([
    "https://app.example.com/",
    "https://app.example.com/path",
    "app.example.com",
    "https://APP.example.com",
    "https://app.example.com:443",
    "ftp://files.example.com",
    "https://user@app.example.com",
    "*",
    "null",
  ])("refuses %s as an origin, naming the variable", (origin) => {
    expect(() => loadConfig({ ...base, CORS_ORIGINS: origin })).toThrow(/CORS_ORIGINS/);
  });

  it("refuses a SESSION_COOKIE other than on or off", () => {
    expect(() => loadConfig({ ...base, SESSION_COOKIE: "yes" })).toThrow(/SESSION_COOKIE/);
  });
});

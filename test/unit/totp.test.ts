import { describe, expect, it } from "vitest";
import {
  generateTotpSecret,
  matchTotpStep,
  TOTP_DIGITS,
  TOTP_PERIOD_SECONDS,
  TOTP_WINDOW,
  totpCodeAt,
  totpQrSvg,
  totpStepAt,
  totpUri,
} from "../../functions/lib/totp";

// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
const RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
// [unix seconds, 8-digit value from the RFC table]; a 6-digit code is its last six digits.
const RFC_SHA1_VECTORS: [number, string][] = [
  [59, "94287082"],
  [1111111109, "07081804"],
  [1111111111, "14050471"],
  [1234567890, "89005924"],
  [2000000000, "69279037"],
  [20000000000, "65353130"],
];

describe("TOTP", () => {
  it("uses the RFC 6238 parameters authenticator apps expect", () => {
    expect([TOTP_DIGITS, TOTP_PERIOD_SECONDS, TOTP_WINDOW]).toEqual([6, 30, 1]);
  });

  it.each(RFC_SHA1_VECTORS)("matches RFC 6238 Appendix B (SHA-1) at T=%i", (seconds, eightDigits) => {
    const code = eightDigits.slice(-6);
    expect(totpCodeAt(RFC_SECRET, seconds * 1000)).toBe(code);
    expect(matchTotpStep(RFC_SECRET, code, seconds * 1000)).toBe(Math.floor(seconds / 30));
  });

  it("accepts ±1 step and refuses ±2 at a controlled clock", () => {
    const now = 1_700_000_015_000; // mid-step, so ±30 s lands squarely in the neighbouring steps
    const step = totpStepAt(now);
    const codes = [-2, -1, 0, 1, 2].map((d) => totpCodeAt(RFC_SECRET, now + d * 30_000));
    expect(new Set(codes).size).toBe(5); // precondition: no accidental collision between steps
    const [minus2, minus1, current, plus1, plus2] = codes as [string, string, string, string, string];
    expect(matchTotpStep(RFC_SECRET, minus1, now)).toBe(step - 1);
    expect(matchTotpStep(RFC_SECRET, current, now)).toBe(step);
    expect(matchTotpStep(RFC_SECRET, plus1, now)).toBe(step + 1);
    expect(matchTotpStep(RFC_SECRET, minus2, now)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, plus2, now)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, minus1, now, 0)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, minus2, now, 2)).toBe(step - 2);
  });

  it("treats otpauth's delta 0 (current step) as a match, even at step 0", () => {
    const now = 1_700_000_000_000;
    expect(matchTotpStep(RFC_SECRET, totpCodeAt(RFC_SECRET, now), now)).toBe(Math.floor(now / 30_000));
    expect(matchTotpStep(RFC_SECRET, totpCodeAt(RFC_SECRET, 10_000), 10_000)).toBe(0);
  });

  it("refuses anything but exactly six ASCII digits", () => {
    const now = 59_000;
    for (const code of ["", "28708", "2870822", "94287082", " 287082", "287082 ", "28708a", "２８７０８２"]) {
      expect(matchTotpStep(RFC_SECRET, code, now)).toBeNull();
    }
    expect(matchTotpStep(RFC_SECRET, "287082", now)).toBe(1);
  });

  it("refuses a wrong code", () => {
    const now = 59_000;
    const wrong = totpCodeAt(RFC_SECRET, now) === "000000" ? "111111" : "000000";
    expect(matchTotpStep(RFC_SECRET, wrong, now)).toBeNull();
  });

  it("generates 160-bit base32 secrets that work with the matcher", () => {
    const secrets = Array.from({ length: 50 }, generateTotpSecret);
    for (const secret of secrets) expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(new Set(secrets).size).toBe(secrets.length);
    const secret = secrets[0]!;
    expect(matchTotpStep(secret, totpCodeAt(secret, 1_000_000), 1_000_000)).toBe(totpStepAt(1_000_000));
  });

  it("builds an otpauth URI with issuer, account and the fixed parameters", () => {
    const uri = totpUri({ secret: RFC_SECRET, issuer: "Acme Inc", account: "ana@example.com" });
    const url = new URL(uri);
    expect(url.protocol).toBe("otpauth:");
    expect(url.host).toBe("totp");
    expect(decodeURIComponent(url.pathname)).toBe("/Acme Inc:ana@example.com");
    expect(url.searchParams.get("secret")).toBe(RFC_SECRET);
    expect(url.searchParams.get("issuer")).toBe("Acme Inc");
    expect(url.searchParams.get("algorithm")).toBe("SHA1");
    expect(url.searchParams.get("digits")).toBe("6");
    expect(url.searchParams.get("period")).toBe("30");
  });

  it("renders the URI as an SVG QR code", () => {
    const svg = totpQrSvg(totpUri({ secret: RFC_SECRET, issuer: "Acme", account: "ana@example.com" }));
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
  });
});

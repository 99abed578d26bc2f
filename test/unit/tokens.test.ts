import { describe, expect, it } from "vitest";
import { base64UrlToBytes } from "../../functions/lib/encoding";
import { generateToken, sha256Hex } from "../../functions/lib/tokens";

describe("generateToken", () => {
  it("returns 32 random bytes as 43 base64url characters by default", () => {
    const token = generateToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(base64UrlToBytes(token)).toHaveLength(32);
  });

  it("honours the size and refuses less than 128 bits", () => {
    expect(base64UrlToBytes(generateToken(16))).toHaveLength(16);
    expect(base64UrlToBytes(generateToken(64))).toHaveLength(64);
    expect(() => generateToken(15)).toThrow(RangeError);
    expect(() => generateToken(16.5)).toThrow(RangeError);
    expect(() => generateToken(70_000)).toThrow(RangeError);
  });

  it("never repeats and spreads its bits evenly", () => {
    const tokens = Array.from({ length: 1000 }, () => generateToken());
    expect(new Set(tokens).size).toBe(tokens.length);
    // Count set bits over 1000 × 256 bits: a fair source gives 50% ± a few hundredths.
    let ones = 0;
    for (const token of tokens)
      for (const byte of base64UrlToBytes(token)) ones += byte.toString(2).split("1").length - 1;
    expect(ones / (tokens.length * 256)).toBeGreaterThan(0.49);
    expect(ones / (tokens.length * 256)).toBeLessThan(0.51);
  });
});

describe("sha256Hex", () => {
  it("matches the FIPS 180-2 test vectors", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
});

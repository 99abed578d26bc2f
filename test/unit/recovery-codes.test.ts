import { describe, expect, it } from "vitest";
import {
  generateRecoveryCodes,
  hashRecoveryCode,
  normalizeRecoveryCode,
  RECOVERY_CODE_ALPHABET,
  RECOVERY_CODE_LENGTH,
} from "../../functions/lib/recovery-codes";
import { sha256Hex } from "../../functions/lib/tokens";

describe("recovery codes", () => {
  it("carries at least 50 bits of entropy per code", () => {
    expect(new Set(RECOVERY_CODE_ALPHABET).size).toBe(32);
    expect(RECOVERY_CODE_LENGTH * Math.log2(RECOVERY_CODE_ALPHABET.length)).toBeGreaterThanOrEqual(50);
    expect(RECOVERY_CODE_ALPHABET).not.toMatch(/[ilou]/);
  });

  it("generates ten distinct xxxx-xxxx-xxxx codes by default", () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes)
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
    expect(generateRecoveryCodes(3)).toHaveLength(3);
    expect(() => generateRecoveryCodes(0)).toThrow(RangeError);
    expect(() => generateRecoveryCodes(101)).toThrow(RangeError);
  });

  it("uses every symbol about equally often (no modulo bias)", () => {
    const counts = new Map<string, number>();
    const codes = Array.from({ length: 100 }, () => generateRecoveryCodes(100)).flat();
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes)
      for (const ch of normalizeRecoveryCode(code)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(32);
    const expected = (codes.length * RECOVERY_CODE_LENGTH) / 32; // 3,750 per symbol
    for (const n of counts.values()) expect(Math.abs(n - expected)).toBeLessThan(expected * 0.1);
  });

  it("normalizes case, spaces and dashes, and Crockford look-alikes", () => {
    expect(normalizeRecoveryCode("ABCD-EFGH-JKMN")).toBe("abcdefghjkmn");
    expect(normalizeRecoveryCode("  abcd efgh\tjkmn ")).toBe("abcdefghjkmn");
    expect(normalizeRecoveryCode("abcd–efgh—jkmn")).toBe("abcdefghjkmn");
    expect(normalizeRecoveryCode("O0o0-IiLl-1111")).toBe("000011111111");
  });

  it("hashes the normalized form with SHA-256", async () => {
    const [code] = generateRecoveryCodes(1) as [string];
    const hash = await hashRecoveryCode(code);
    expect(hash).toBe(await sha256Hex(normalizeRecoveryCode(code)));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await hashRecoveryCode(` ${code.toUpperCase().replace(/-/g, " ")} `)).toBe(hash);
    expect(await hashRecoveryCode(code.replace(/-/g, ""))).toBe(hash);
  });
});

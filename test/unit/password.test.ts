import { describe, expect, it } from "vitest";
import { COMMON_PASSWORDS } from "../../functions/lib/common-passwords";
import { bytesToBase64NoPad, utf8Encode } from "../../functions/lib/encoding";
import {
  checkPasswordPolicy,
  DEFAULT_PASSWORD_HASH,
  hashPassword,
  type PasswordHashParams,
  verifyDummyPassword,
  verifyPassword,
} from "../../functions/lib/password";

// Cheap parameters: these tests are about behaviour, not cost (1 MiB scrypt, 1,000 PBKDF2 rounds).
const FAST: PasswordHashParams = { algorithm: "scrypt", logN: 10, r: 8, p: 1 };
const FAST_PBKDF2: PasswordHashParams = { algorithm: "pbkdf2-sha256", iterations: 1_000 };
const hex = (h: string) => Uint8Array.from(h.match(/../g)!, (b) => Number.parseInt(b, 16));
const b64 = (bytes: Uint8Array) => bytesToBase64NoPad(bytes);

describe("hashPassword / verifyPassword", () => {
  it("uses an OWASP scrypt setting by default and round-trips", async () => {
    expect(DEFAULT_PASSWORD_HASH).toEqual({ algorithm: "scrypt", logN: 14, r: 8, p: 5 });
    const encoded = await hashPassword("correct horse battery staple");
    expect(encoded).toMatch(/^\$scrypt\$ln=14,r=8,p=5\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword("correct horse battery staple", encoded)).toEqual({
      valid: true,
      needsRehash: false,
    });
  });

  it("salts every hash and refuses a wrong password", async () => {
    const a = await hashPassword("hunter2hunter2", { params: FAST });
    const b = await hashPassword("hunter2hunter2", { params: FAST });
    expect(a).not.toBe(b);
    expect((await verifyPassword("hunter2hunter2", a, { params: FAST })).valid).toBe(true);
    expect((await verifyPassword("hunter2hunter3", a, { params: FAST })).valid).toBe(false);
    expect((await verifyPassword("Hunter2hunter2", a, { params: FAST })).valid).toBe(false);
  });

  it("normalizes Unicode (NFKC) so composed and decomposed input verify alike", async () => {
    const encoded = await hashPassword("caf\u00e9-au-lait", { params: FAST });
    expect((await verifyPassword("cafe\u0301-au-lait", encoded, { params: FAST })).valid).toBe(true);
  });

  it("asks for a rehash when the stored parameters are not the current ones", async () => {
    const old = await hashPassword("a long passphrase", { params: FAST_PBKDF2 });
    expect(old).toMatch(/^\$pbkdf2-sha256\$i=1000\$/);
    expect(await verifyPassword("a long passphrase", old, { params: FAST_PBKDF2 })).toEqual({
      valid: true,
      needsRehash: false,
    });
    expect(await verifyPassword("a long passphrase", old, { params: FAST })).toEqual({
      valid: true,
      needsRehash: true,
    });
    const scrypt = await hashPassword("a long passphrase", { params: FAST });
    const stronger: PasswordHashParams = { algorithm: "scrypt", logN: 11, r: 8, p: 1 };
    expect(await verifyPassword("a long passphrase", scrypt, { params: stronger })).toEqual({
      valid: true,
      needsRehash: true,
    });
    expect((await verifyPassword("wrong passphrase", scrypt, { params: stronger })).valid).toBe(false);
  });

  it("verifies the RFC 7914 §12 scrypt and §11 PBKDF2-HMAC-SHA256 test vectors", async () => {
    const scrypt = `$scrypt$ln=10,r=8,p=16$${b64(utf8Encode("NaCl"))}$${b64(
      hex(
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640",
      ),
    )}`;
    expect((await verifyPassword("password", scrypt)).valid).toBe(true);
    expect((await verifyPassword("passwort", scrypt)).valid).toBe(false);
    const pbkdf2 = `$pbkdf2-sha256$i=80000$${b64(utf8Encode("NaCl"))}$${b64(
      hex(
        "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d",
      ),
    )}`;
    expect(await verifyPassword("Password", pbkdf2)).toEqual({ valid: true, needsRehash: true });
  });

  it("throws on hashes it cannot read, or whose parameters are out of bounds", async () => {
    const good = await hashPassword("whatever you like", { params: FAST });
    const [, , , salt, hash] = good.split("$");
    for (const bad of [
      "",
      "plaintext",
      `$argon2id$v=19$m=65536,t=3,p=4$${salt}$${hash}`,
      `$scrypt$ln=30,r=8,p=1$${salt}$${hash}`,
      `$scrypt$ln=10,r=8$${salt}$${hash}`,
      `$pbkdf2-sha256$i=10$${salt}$${hash}`,
      `$scrypt$ln=10,r=8,p=1$${salt}$`,
      `$scrypt$ln=10,r=8,p=1$${salt}$AAAA`,
    ]) {
      await expect(verifyPassword("whatever you like", bad)).rejects.toThrow();
    }
    await expect(
      hashPassword("x", { params: { algorithm: "scrypt", logN: 25, r: 8, p: 1 } }),
    ).rejects.toThrow(RangeError);
  });

  it("runs a dummy verify that always fails and costs about as much as a real one", async () => {
    const params: PasswordHashParams = { algorithm: "pbkdf2-sha256", iterations: 100_000 };
    const encoded = await hashPassword("a real password", { params });
    const time = async (run: () => Promise<unknown>) => {
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await run();
        best = Math.min(best, performance.now() - t);
      }
      return best;
    };
    const real = await time(() => verifyPassword("a real password", encoded, { params }));
    const dummy = await time(() => verifyDummyPassword("a real password", { params }));
    expect(await verifyDummyPassword("a real password", { params: FAST })).toEqual({
      valid: false,
      needsRehash: false,
    });
    expect(dummy / real).toBeGreaterThan(0.5);
    expect(dummy / real).toBeLessThan(2);
  });
});

describe("checkPasswordPolicy", () => {
  it("counts Unicode code points, not UTF-16 units (NIST SP 800-63B: 8 to 128)", () => {
    expect(checkPasswordPolicy("")).toBe("too_short");
    expect(checkPasswordPolicy("seven77")).toBe("too_short");
    expect(checkPasswordPolicy("eight888")).toBe("ok");
    expect(checkPasswordPolicy("🔐".repeat(7))).toBe("too_short"); // 14 UTF-16 units
    expect(checkPasswordPolicy("🔐".repeat(8))).toBe("ok");
    expect(checkPasswordPolicy("🔐".repeat(128))).toBe("ok"); // 256 UTF-16 units
    expect(checkPasswordPolicy("🔐".repeat(129))).toBe("too_long");
    expect(checkPasswordPolicy("x".repeat(128))).toBe("ok");
    expect(checkPasswordPolicy("x".repeat(129))).toBe("too_long");
  });

  it("refuses well-known passwords case-insensitively", () => {
    expect(checkPasswordPolicy("password")).toBe("common");
    expect(checkPasswordPolicy("PASSWORD123")).toBe("common");
    expect(checkPasswordPolicy("Qwerty123!")).toBe("common");
    expect(checkPasswordPolicy("iLoveYou")).toBe("common");
    expect(checkPasswordPolicy("12345678")).toBe("common");
    expect(checkPasswordPolicy("tr0ub4dor&3-staple")).toBe("ok");
  });

  it("keeps a list of a few hundred lowercase entries that the length rule lets through", () => {
    expect(COMMON_PASSWORDS.size).toBeGreaterThanOrEqual(300);
    for (const entry of COMMON_PASSWORDS) {
      expect(entry).toBe(entry.toLowerCase());
      expect([...entry].length).toBeGreaterThanOrEqual(8);
      expect(checkPasswordPolicy(entry)).toBe("common");
    }
  });
});

import { describe, expect, it } from "vitest";
import { bytesToBase64 } from "../../functions/lib/encoding";
import { createSecretBox, parseKeyring, SecretBoxError } from "../../functions/lib/secret-box";

const key = () => bytesToBase64(crypto.getRandomValues(new Uint8Array(32)));
const K1 = key();
const K2 = key();
const SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const ROW = "0190f2a4-7b1c-7000-8000-000000000001";

describe("secret box", () => {
  it("round-trips and never repeats a ciphertext", async () => {
    const box = createSecretBox({ currentKeyId: "k1", keys: { k1: K1 } });
    const a = await box.seal(SECRET, ROW);
    const b = await box.seal(SECRET, ROW);
    expect(a.keyId).toBe("k1");
    expect(a.ciphertext).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(a.ciphertext).not.toBe(b.ciphertext); // fresh IV each time
    expect(a.ciphertext).not.toContain(SECRET);
    expect(await box.open(a, ROW)).toBe(SECRET);
    expect(await box.open(b, ROW)).toBe(SECRET);
    expect(await box.open(await box.seal("", ROW), ROW)).toBe("");
  });

  it("refuses a ciphertext moved to another row (wrong AAD)", async () => {
    const box = createSecretBox({ currentKeyId: "k1", keys: { k1: K1 } });
    const sealed = await box.seal(SECRET, ROW);
    await expect(box.open(sealed, "0190f2a4-7b1c-7000-8000-000000000002")).rejects.toThrow(SecretBoxError);
  });

  it("refuses tampering anywhere in iv, ciphertext or tag, and truncation", async () => {
    const box = createSecretBox({ currentKeyId: "k1", keys: { k1: K1 } });
    const sealed = await box.seal(SECRET, ROW);
    const flip = (i: number) => {
      const chars = [...sealed.ciphertext];
      chars[i] = chars[i] === "A" ? "B" : "A";
      return { ...sealed, ciphertext: chars.join("") };
    };
    for (const i of [0, 20, sealed.ciphertext.length - 2]) {
      await expect(box.open(flip(i), ROW)).rejects.toThrow(/failed authentication/);
    }
    await expect(box.open({ ...sealed, ciphertext: sealed.ciphertext.slice(0, 30) }, ROW)).rejects.toThrow(
      /truncated/,
    );
    await expect(box.open({ ...sealed, ciphertext: "not base64!" }, ROW)).rejects.toThrow(SecretBoxError);
  });

  it("refuses a ciphertext under the wrong key and an unknown key id", async () => {
    const sealed = await createSecretBox({ currentKeyId: "k1", keys: { k1: K1 } }).seal(SECRET, ROW);
    const other = createSecretBox({ currentKeyId: "k1", keys: { k1: K2 } });
    await expect(other.open(sealed, ROW)).rejects.toThrow(/failed authentication/);
    await expect(other.open({ ...sealed, keyId: "k9" }, ROW)).rejects.toThrow(
      /unknown secret box key id "k9"/,
    );
  });

  it("rotates: seals with the current key and still opens the old one", async () => {
    const old = await createSecretBox(parseKeyring(`k1:${K1}`)).seal(SECRET, ROW);
    const rotated = createSecretBox(parseKeyring(`k2:${K2},k1:${K1}`));
    expect(await rotated.open(old, ROW)).toBe(SECRET);
    const fresh = await rotated.seal(SECRET, ROW);
    expect(fresh.keyId).toBe("k2");
    expect(await rotated.open(fresh, ROW)).toBe(SECRET);
  });

  it("checks the keyring once, at construction", () => {
    expect(() => createSecretBox({ currentKeyId: "k2", keys: { k1: K1 } })).toThrow(/current key id/);
    expect(() =>
      createSecretBox({ currentKeyId: "k1", keys: { k1: bytesToBase64(new Uint8Array(16)) } }),
    ).toThrow(/32 bytes/);
    expect(() => createSecretBox({ currentKeyId: "k1", keys: { k1: "not base64!" } })).toThrow(
      SecretBoxError,
    );
    expect(() => createSecretBox({ currentKeyId: "k:1", keys: { "k:1": K1 } })).toThrow(/malformed/);
  });

  it("parses the id:base64 keyring format, first entry current", () => {
    const unpadded = K2.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    expect(parseKeyring(` k2:${unpadded} , k1:${K1}`)).toEqual({
      currentKeyId: "k2",
      keys: { k2: unpadded, k1: K1 },
    });
    expect(() => parseKeyring("")).toThrow(SecretBoxError);
    expect(() => parseKeyring(K1)).toThrow(SecretBoxError);
    expect(() => parseKeyring(`k1:${K1},k1:${K2}`)).toThrow(/twice/);
    expect(() => parseKeyring(`k1:${K1},k2:short`)).toThrow(/32 bytes/);
  });
});

import { describe, expect, it } from "vitest";
import {
  base64ToBytes,
  base64UrlToBytes,
  bytesToBase64,
  bytesToBase64NoPad,
  bytesToBase64Url,
  bytesToHex,
  timingSafeEqual,
  utf8Decode,
  utf8Encode,
} from "../../functions/lib/encoding";

describe("encoding", () => {
  it("matches the RFC 4648 §10 base64 test vectors", () => {
    const vectors: [string, string][] = [
      ["", ""],
      ["f", "Zg=="],
      ["fo", "Zm8="],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg=="],
      ["fooba", "Zm9vYmE="],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [plain, encoded] of vectors) {
      expect(bytesToBase64(utf8Encode(plain))).toBe(encoded);
      expect(bytesToBase64NoPad(utf8Encode(plain))).toBe(encoded.replace(/=/g, ""));
      expect(utf8Decode(base64ToBytes(encoded))).toBe(plain);
    }
  });

  it("uses the URL alphabet without padding for base64url and round-trips every byte", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const encoded = bytesToBase64Url(all);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(base64UrlToBytes(encoded)).toEqual(all);
    expect(bytesToBase64Url(new Uint8Array([0xfb, 0xff]))).toBe("-_8");
    expect(base64ToBytes("-_8")).toEqual(new Uint8Array([0xfb, 0xff]));
  });

  it("refuses malformed base64 instead of skipping characters", () => {
    expect(() => base64UrlToBytes("ab+c")).toThrow(TypeError);
    expect(() => base64UrlToBytes("Zg==")).toThrow(TypeError);
    expect(() => base64UrlToBytes("abcde")).toThrow(TypeError);
    expect(() => base64ToBytes("Zm 9v")).toThrow(TypeError);
    expect(() => base64ToBytes("Zm9v\n")).toThrow(TypeError);
  });

  it("encodes hex in lowercase", () => {
    expect(bytesToHex(new Uint8Array([0, 1, 0xab, 0xff]))).toBe("0001abff");
  });

  it("refuses invalid UTF-8", () => {
    expect(() => utf8Decode(new Uint8Array([0xc3]))).toThrow(TypeError);
    expect(utf8Decode(utf8Encode("🔐 é"))).toBe("🔐 é");
  });

  it("compares strings and bytes", () => {
    expect(timingSafeEqual("abc", "abc")).toBe(true);
    expect(timingSafeEqual("abc", "abd")).toBe(false);
    expect(timingSafeEqual("abc", "abcd")).toBe(false);
    expect(timingSafeEqual("", "")).toBe(true);
    expect(timingSafeEqual("", "\0")).toBe(false);
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(timingSafeEqual("é", new Uint8Array([0xc3, 0xa9]))).toBe(true);
  });
});

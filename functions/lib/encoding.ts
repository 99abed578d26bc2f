/**
 * Byte/string encodings and a constant-time comparison, over globals that exist on Workers,
 * Node 20 and Lambda alike (btoa/atob, TextEncoder/TextDecoder). Deliberately no `Buffer`:
 * it is not a global on Workers without nodejs_compat.
 */

const utf8Encoder = new TextEncoder();
// fatal: a secret that is not valid UTF-8 is corrupt, silently inserting U+FFFD would hide that.
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes a string as UTF-8 bytes. */
export function utf8Encode(value: string): Uint8Array<ArrayBuffer> {
  return utf8Encoder.encode(value) as Uint8Array<ArrayBuffer>;
}

/** Decodes UTF-8 bytes to a string; throws a TypeError on invalid UTF-8. */
export function utf8Decode(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

// btoa/atob work on "binary strings"; build them in chunks so large inputs cannot overflow the
// argument limit of String.fromCharCode.apply.
function toBinaryString(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    out += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return out;
}

function fromBinaryString(binary: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Standard base64 (RFC 4648 §4) with padding. */
export function bytesToBase64(bytes: Uint8Array): string {
  return btoa(toBinaryString(bytes));
}

/** Standard base64 (RFC 4648 §4) without padding, the "B64" of the PHC string format. */
export function bytesToBase64NoPad(bytes: Uint8Array): string {
  return bytesToBase64(bytes).replace(/=+$/, "");
}

/** base64url (RFC 4648 §5) without padding: safe in URLs, headers and JSON. */
export function bytesToBase64Url(bytes: Uint8Array): string {
  return bytesToBase64NoPad(bytes).replace(/\+/g, "-").replace(/\//g, "_");
}

const BASE64_ANY = /^[A-Za-z0-9+/_-]*={0,2}$/;
const BASE64_URL = /^[A-Za-z0-9_-]*$/;

function decodeBase64(normalized: string): Uint8Array<ArrayBuffer> {
  // A length of 1 mod 4 can never come from an encoder; atob would reject it anyway, but say why.
  if (normalized.length % 4 === 1) throw new TypeError("invalid base64: impossible length");
  const padded = normalized + "=".repeat((4 - (normalized.length % 4)) % 4);
  return fromBinaryString(atob(padded));
}

/**
 * Lenient base64 decoding for configuration values typed by people (`openssl rand -base64 32`):
 * accepts the standard and the URL alphabet, with or without padding. Throws a TypeError
 * on any other character (atob alone would silently skip whitespace).
 */
export function base64ToBytes(value: string): Uint8Array<ArrayBuffer> {
  if (!BASE64_ANY.test(value)) throw new TypeError("invalid base64: unexpected character");
  return decodeBase64(value.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/"));
}

/** Strict base64url decoding (URL alphabet, no padding); throws a TypeError otherwise. */
export function base64UrlToBytes(value: string): Uint8Array<ArrayBuffer> {
  if (!BASE64_URL.test(value)) throw new TypeError("invalid base64url: unexpected character");
  return decodeBase64(value.replace(/-/g, "+").replace(/_/g, "/"));
}

/** Lowercase hexadecimal. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

/**
 * Compares two byte arrays or two strings (as UTF-8) in time that depends only on their
 * lengths, never on where they first differ, so a remote caller cannot learn a stored hash
 * byte by byte. Lengths are not treated as secret: every value compared here (digests,
 * derived keys) has a fixed, public length.
 */
export function timingSafeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const x = typeof a === "string" ? utf8Encode(a) : a;
  const y = typeof b === "string" ? utf8Encode(b) : b;
  const length = Math.max(x.length, y.length);
  let diff = x.length ^ y.length;
  for (let i = 0; i < length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

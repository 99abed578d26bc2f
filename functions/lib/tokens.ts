import { bytesToBase64Url, bytesToHex, utf8Encode } from "./encoding";

/** Default token size: 32 bytes = 256 bits, the size of a SHA-256 output. */
export const TOKEN_BYTES = 32;

/**
 * Lower bound on token entropy. NIST SP 800-63B §7.1 asks for session secrets of at least
 * 64 bits; 128 bits (OWASP Session Management Cheat Sheet: "at least 64 bits", we double it)
 * also keeps the unsalted SHA-256 we store out of reach of multi-target brute force.
 */
export const MIN_TOKEN_BYTES = 16;

/** crypto.getRandomValues refuses more than 65,536 bytes per call (W3C Web Crypto). */
const MAX_TOKEN_BYTES = 65_536;

/**
 * A fresh bearer secret (session, challenge or reset token): `bytes` bytes from the CSPRNG,
 * base64url without padding (43 characters for the default 32 bytes).
 *
 * @throws RangeError when `bytes` is not an integer between 16 and 65,536.
 */
export function generateToken(bytes: number = TOKEN_BYTES): string {
  if (!Number.isInteger(bytes) || bytes < MIN_TOKEN_BYTES || bytes > MAX_TOKEN_BYTES) {
    throw new RangeError(`token size must be an integer from ${MIN_TOKEN_BYTES} to ${MAX_TOKEN_BYTES} bytes`);
  }
  return bytesToBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * Lowercase hex SHA-256 of the UTF-8 value. This is what gets stored for bearer tokens: an
 * unsalted fast hash is enough because the tokens carry ≥128 random bits, so nobody can
 * enumerate them, and a database leak then yields nothing that authenticates.
 */
export async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", utf8Encode(value));
  return bytesToHex(new Uint8Array(digest));
}

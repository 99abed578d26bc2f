import { bytesToHex, utf8Encode } from "./encoding";

/** Hashes a value under the hasher's key; resolves to lowercase hex HMAC-SHA-256 (64 chars). */
export type KeyedHasher = (value: string) => Promise<string>;

/**
 * Creates an HMAC-SHA-256 (RFC 2104, FIPS 198-1) hasher for values that must be comparable but
 * not recoverable, such as client IPs and user agents. A plain SHA-256 of an IPv4 address is
 * reversed by hashing all 2^32 addresses; under a server-side key it cannot be.
 *
 * The key is the UTF-8 bytes of `secret`. Use at least 32 random bytes (RFC 2104 §3: keys
 * shorter than the hash output, 32 bytes here, weaken it); short keys are accepted only so the
 * RFC 4231 test vectors can run. The CryptoKey is imported once, on first use, and the pending
 * promise is shared so concurrent first calls do not import it twice.
 *
 * With `purpose`, the HMAC key is not the secret itself but a key derived from it for that
 * purpose alone (HKDF-SHA-256, RFC 5869, info = "user-data-hardening/<purpose>"): hashes made for
 * different purposes (IP, user agent, rate-limit identifiers) cannot be compared with each other,
 * so a user agent that spells an IP address does not produce that IP's hash.
 *
 * @throws TypeError when `secret` is empty.
 */
export function createKeyedHasher(secret: string, purpose?: string): KeyedHasher {
  if (typeof secret !== "string" || secret.length === 0) {
    throw new TypeError("keyed hash secret must be a non-empty string");
  }
  let key: Promise<CryptoKey> | undefined;
  const hmac = { name: "HMAC", hash: "SHA-256" } as const;
  const importKey = async () => {
    if (purpose === undefined)
      return crypto.subtle.importKey("raw", utf8Encode(secret), hmac, false, ["sign"]);
    const master = await crypto.subtle.importKey("raw", utf8Encode(secret), "HKDF", false, ["deriveKey"]);
    const info = utf8Encode(`user-data-hardening/${purpose}`);
    return crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info },
      master,
      { ...hmac, length: 256 },
      false,
      ["sign"],
    );
  };
  const getKey = () => {
    key ??= importKey();
    return key;
  };
  return async function keyedHash(value: string): Promise<string> {
    const mac = await crypto.subtle.sign("HMAC", await getKey(), utf8Encode(value));
    return bytesToHex(new Uint8Array(mac));
  };
}

/**
 * Authenticated encryption of small secrets at rest (TOTP shared secrets) with AES-256-GCM
 * (NIST SP 800-38D) through Web Crypto, under a keyring so keys can rotate.
 */
import { base64ToBytes, base64UrlToBytes, bytesToBase64Url, utf8Decode, utf8Encode } from "./encoding";

/** Key ids and base64 keys; `currentKeyId` seals, every key opens. */
export type Keyring = { currentKeyId: string; keys: Record<string, string> };

/** What gets stored: the key id beside `ciphertext` = base64url(iv || ciphertext || tag). */
export type SealedSecret = { keyId: string; ciphertext: string };

export type SecretBox = {
  /** Encrypts under the current key, binding `aad` (the owning row's id) to the ciphertext. */
  seal(plaintext: string, aad: string): Promise<SealedSecret>;
  /** Decrypts; throws SecretBoxError on an unknown key id, a different `aad` or any tampering. */
  open(sealed: SealedSecret, aad: string): Promise<string>;
};

/** Thrown for every refusal of the secret box; the message never contains key or plaintext. */
export class SecretBoxError extends Error {
  override name = "SecretBoxError";
}

/** AES-256: 32-byte keys. */
export const SECRET_BOX_KEY_BYTES = 32;
/**
 * 96-bit random IVs, the length NIST SP 800-38D §8.2 recommends. With random IVs one key must
 * not seal more than 2^32 messages (§8.3); TOTP enrolments stay far below, and rotation resets it.
 */
export const SECRET_BOX_IV_BYTES = 12;
/** Full 128-bit tag (SP 800-38D §5.2.1.2); shorter tags weaken forgery resistance. */
const TAG_BITS = 128;

const KEY_ID = /^[A-Za-z0-9_.-]{1,32}$/;

/**
 * Creates a secret box over a keyring. Key ids and key lengths are checked here, once, so a
 * misconfigured deployment fails at startup rather than on the first MFA enrolment. CryptoKeys
 * are imported lazily and memoized per key id.
 *
 * @throws SecretBoxError when the current key is missing, a key id is malformed, or a key is
 * not 32 bytes of base64.
 */
export function createSecretBox(keyring: Keyring): SecretBox {
  const raw = validateKeyring(keyring);
  const imported = new Map<string, Promise<CryptoKey>>();
  const keyFor = (keyId: string): Promise<CryptoKey> => {
    const bytes = raw.get(keyId);
    if (!bytes) throw new SecretBoxError(`unknown secret box key id "${keyId.slice(0, 32)}"`);
    let key = imported.get(keyId);
    if (!key) {
      key = crypto.subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]);
      imported.set(keyId, key);
    }
    return key;
  };

  return {
    async seal(plaintext, aad) {
      const keyId = keyring.currentKeyId;
      const iv = crypto.getRandomValues(new Uint8Array(SECRET_BOX_IV_BYTES));
      const ct = await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: utf8Encode(aad), tagLength: TAG_BITS },
        await keyFor(keyId),
        utf8Encode(plaintext),
      );
      const out = new Uint8Array(iv.length + ct.byteLength);
      out.set(iv);
      out.set(new Uint8Array(ct), iv.length);
      return { keyId, ciphertext: bytesToBase64Url(out) };
    },

    async open({ keyId, ciphertext }, aad) {
      const key = await keyFor(keyId);
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = base64UrlToBytes(ciphertext);
      } catch {
        throw new SecretBoxError("sealed secret is not base64url");
      }
      if (bytes.length < SECRET_BOX_IV_BYTES + TAG_BITS / 8)
        throw new SecretBoxError("sealed secret is truncated");
      let plain: ArrayBuffer;
      try {
        plain = await crypto.subtle.decrypt(
          {
            name: "AES-GCM",
            iv: bytes.subarray(0, SECRET_BOX_IV_BYTES),
            additionalData: utf8Encode(aad),
            tagLength: TAG_BITS,
          },
          key,
          bytes.subarray(SECRET_BOX_IV_BYTES),
        );
      } catch {
        // GCM cannot tell these apart, by design: any of them fails the tag check.
        throw new SecretBoxError("sealed secret failed authentication (wrong key, wrong aad, or tampered)");
      }
      return utf8Decode(new Uint8Array(plain));
    },
  };
}

/**
 * Parses the keyring configuration format `id:BASE64[,id:BASE64…]`, e.g.
 * `k2:3q2+7w…=,k1:q83v…=`. The FIRST entry is the current key (new seals); the others only
 * decrypt, which is how a key is rotated: prepend the new key, later re-seal and drop the old
 * one. Ids match `[A-Za-z0-9_.-]{1,32}`; keys are 32 bytes in standard or URL-safe base64,
 * padding optional (`openssl rand -base64 32`). Whitespace around entries is ignored.
 *
 * @throws SecretBoxError on an empty value, a malformed entry, a duplicate id or a bad key.
 */
export function parseKeyring(value: string): Keyring {
  const keys: Record<string, string> = {};
  let currentKeyId: string | undefined;
  for (const entry of value.split(",")) {
    const trimmed = entry.trim();
    const colon = trimmed.indexOf(":");
    if (colon < 1) throw new SecretBoxError("keyring entries must look like id:base64key");
    const id = trimmed.slice(0, colon);
    if (Object.hasOwn(keys, id)) throw new SecretBoxError(`keyring has key id "${id}" twice`);
    keys[id] = trimmed.slice(colon + 1);
    currentKeyId ??= id;
  }
  const keyring = { currentKeyId: currentKeyId!, keys };
  validateKeyring(keyring);
  return keyring;
}

function validateKeyring(keyring: Keyring): Map<string, Uint8Array<ArrayBuffer>> {
  const raw = new Map<string, Uint8Array<ArrayBuffer>>();
  for (const [id, encoded] of Object.entries(keyring.keys ?? {})) {
    if (!KEY_ID.test(id)) throw new SecretBoxError(`malformed secret box key id "${id.slice(0, 32)}"`);
    let bytes: Uint8Array<ArrayBuffer> | undefined;
    try {
      bytes = base64ToBytes(encoded.trim());
    } catch {
      bytes = undefined;
    }
    if (bytes?.length !== SECRET_BOX_KEY_BYTES) {
      throw new SecretBoxError(`secret box key "${id}" must be ${SECRET_BOX_KEY_BYTES} bytes of base64`);
    }
    raw.set(id, bytes);
  }
  if (!raw.has(keyring.currentKeyId))
    throw new SecretBoxError("secret box current key id is not in the keyring");
  return raw;
}

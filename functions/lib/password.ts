/**
 * Password hashing: scrypt by default, PBKDF2-HMAC-SHA256 still verifiable, stored as PHC strings
 * (https://github.com/P-H-C/phc-string-format) so the algorithm and its parameters travel with
 * every hash and can change without a migration. Measurements behind the defaults:
 * docs/password-hashing.md.
 *
 * scrypt comes from `node:crypto` on purpose: Web Crypto has no memory-hard KDF, and
 * `node:crypto` exists on Node, Lambda and Workers (with the `nodejs_compat` flag). PBKDF2 uses
 * Web Crypto.
 */
import { scrypt } from "node:crypto";
import { COMMON_PASSWORDS } from "./common-passwords";
import { base64ToBytes, bytesToBase64NoPad, timingSafeEqual, utf8Encode } from "./encoding";

export type ScryptParams = {
  algorithm: "scrypt";
  /** log2 of the CPU/memory cost N. */
  logN: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
};

export type Pbkdf2Params = {
  algorithm: "pbkdf2-sha256";
  iterations: number;
};

/** Everything a hash string can name. */
export type PasswordHashParams = ScryptParams | Pbkdf2Params;

export type PasswordVerification = { valid: boolean; needsRehash: boolean };

/** Options of every function here: the parameters new hashes use (default DEFAULT_PASSWORD_HASH). */
export type PasswordHashOptions = { params?: PasswordHashParams };

/**
 * Default: scrypt N=2^14, r=8, p=5, one of the equivalent settings listed by the OWASP Password
 * Storage Cheat Sheet (its first choice, N=2^17 r=8 p=1, needs 128 MiB, all of a Workers isolate).
 * This set needs 16 MiB and costs the same CPU as the cheat sheet's other sets.
 */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = Object.freeze({
  algorithm: "scrypt",
  logN: 14,
  r: 8,
  p: 5,
});

/**
 * PBKDF2 as deployed where scrypt is unavailable. 100,000 is the most production Workers accept
 * for PBKDF2 in Web Crypto; OWASP asks for 600,000 with HMAC-SHA256, so this is verify-only
 * legacy, never the default.
 */
export const WORKERS_PBKDF2_PARAMS: Pbkdf2Params = Object.freeze({
  algorithm: "pbkdf2-sha256",
  iterations: 100_000,
});

/** Parameters of newly created hashes. */
export const DEFAULT_PASSWORD_HASH: PasswordHashParams = DEFAULT_SCRYPT_PARAMS;

/** 128-bit salts: NIST SP 800-132 §5.1 asks for at least 128 bits, SP 800-63B §5.1.1.2 for 32. */
export const PASSWORD_SALT_BYTES = 16;
/** 256-bit output; longer adds nothing for verification and PBKDF2 would pay a second block. */
export const PASSWORD_HASH_BYTES = 32;

/** NIST SP 800-63B §5.1.1.2: at least 8 characters; allow at least 64, we allow 128. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

// Bounds for parameters read back from storage: a corrupt or planted hash string must not be
// able to make a login allocate gigabytes or spin for minutes.
const LIMITS = { logN: [10, 20], r: [1, 32], p: [1, 16], iterations: [1_000, 10_000_000] } as const;

export type PasswordPolicyResult = "ok" | "too_short" | "too_long" | "common";

/**
 * Checks a new password against NIST SP 800-63B §5.1.1.2: 8 to 128 characters counted as
 * Unicode code points (an emoji is one character, not two UTF-16 units), and not a well-known
 * password (compared case-insensitively). No composition rules, which the same section rejects.
 */
export function checkPasswordPolicy(password: string): PasswordPolicyResult {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return "too_short";
  if (length > PASSWORD_MAX_LENGTH) return "too_long";
  if (COMMON_PASSWORDS.has(password.normalize("NFKC").toLowerCase())) return "common";
  return "ok";
}

/** Hashes a password with fresh random salt; returns a PHC string such as `$scrypt$ln=14,r=8,p=5$<salt>$<hash>`. */
export async function hashPassword(password: string, options: PasswordHashOptions = {}): Promise<string> {
  const params = options.params ?? DEFAULT_PASSWORD_HASH;
  checkParams(params);
  const salt = crypto.getRandomValues(new Uint8Array(PASSWORD_SALT_BYTES));
  const hash = await derive(password, salt, params, PASSWORD_HASH_BYTES);
  return `$${params.algorithm}$${formatParams(params)}$${bytesToBase64NoPad(salt)}$${bytesToBase64NoPad(hash)}`;
}

/**
 * Verifies a password against a stored PHC string of any supported algorithm. `needsRehash`
 * is true when the stored hash was made with other parameters than the current ones, so the
 * caller can store a new hash after a successful login.
 *
 * @throws Error when `encoded` is not a hash this module can read: that is corrupt data, not a
 * wrong password.
 */
export async function verifyPassword(
  password: string,
  encoded: string,
  options: PasswordHashOptions = {},
): Promise<PasswordVerification> {
  const stored = parseEncoded(encoded);
  const actual = await derive(password, stored.salt, stored.params, stored.hash.length);
  const valid = timingSafeEqual(actual, stored.hash);
  const current = options.params ?? DEFAULT_PASSWORD_HASH;
  const needsRehash =
    formatParams(stored.params) !== formatParams(current) ||
    stored.params.algorithm !== current.algorithm ||
    stored.hash.length !== PASSWORD_HASH_BYTES ||
    stored.salt.length !== PASSWORD_SALT_BYTES;
  return { valid, needsRehash };
}

/**
 * Costs what verifyPassword costs with the current parameters and always fails. Call it when
 * the email is unknown so the answer's timing does not tell which accounts exist.
 */
export async function verifyDummyPassword(
  password: string,
  options: PasswordHashOptions = {},
): Promise<PasswordVerification> {
  const params = options.params ?? DEFAULT_PASSWORD_HASH;
  const salt = crypto.getRandomValues(new Uint8Array(PASSWORD_SALT_BYTES));
  const actual = await derive(password, salt, params, PASSWORD_HASH_BYTES);
  // Same compare as a real verify, against bytes no password can produce on purpose.
  timingSafeEqual(actual, crypto.getRandomValues(new Uint8Array(PASSWORD_HASH_BYTES)));
  return { valid: false, needsRehash: false };
}

function formatParams(params: PasswordHashParams): string {
  return params.algorithm === "scrypt"
    ? `ln=${params.logN},r=${params.r},p=${params.p}`
    : `i=${params.iterations}`;
}

function inRange(value: number, [min, max]: readonly [number, number]): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function checkParams(params: PasswordHashParams): void {
  const ok =
    params.algorithm === "scrypt"
      ? inRange(params.logN, LIMITS.logN) && inRange(params.r, LIMITS.r) && inRange(params.p, LIMITS.p)
      : params.algorithm === "pbkdf2-sha256" && inRange(params.iterations, LIMITS.iterations);
  if (!ok) throw new RangeError(`unsupported password hash parameters: ${JSON.stringify(params)}`);
}

const PHC = /^\$(scrypt|pbkdf2-sha256)\$([a-z0-9=,]+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;
const SCRYPT_FIELDS = /^ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})$/;
const PBKDF2_FIELDS = /^i=(\d{1,8})$/;

function parseEncoded(encoded: string): { params: PasswordHashParams; salt: Uint8Array; hash: Uint8Array } {
  const match = PHC.exec(encoded);
  const fields =
    match?.[1] === "scrypt" ? SCRYPT_FIELDS.exec(match[2]!) : PBKDF2_FIELDS.exec(match?.[2] ?? "");
  if (!match || !fields) throw new Error("unrecognised password hash format");
  const params: PasswordHashParams =
    match[1] === "scrypt"
      ? { algorithm: "scrypt", logN: Number(fields[1]), r: Number(fields[2]), p: Number(fields[3]) }
      : { algorithm: "pbkdf2-sha256", iterations: Number(fields[1]) };
  checkParams(params);
  const salt = base64ToBytes(match[3]!);
  const hash = base64ToBytes(match[4]!);
  // 4-byte salts are NIST SP 800-63B's floor (32 bits), kept readable for old or foreign hashes.
  if (salt.length < 4 || hash.length < 16 || hash.length > 64)
    throw new Error("password hash has bad lengths");
  return { params, salt, hash };
}

/**
 * Passwords are NFKC-normalised before hashing (NIST SP 800-63B §5.1.1.2, "SHOULD apply the
 * Normalization Process for Stabilized Strings"), so the same password typed on a keyboard
 * that composes "é" differently still verifies.
 */
function derive(password: string, salt: Uint8Array, params: PasswordHashParams, length: number) {
  const secret = utf8Encode(password.normalize("NFKC"));
  return params.algorithm === "scrypt"
    ? deriveScrypt(secret, salt, params, length)
    : derivePbkdf2(secret, salt, params, length);
}

/** Bytes scrypt allocates (RFC 7914: V is 128·r·N bytes, B is 128·r·p, plus a 256·r scratch block). */
export function scryptMemoryBytes({ logN, r, p }: Omit<ScryptParams, "algorithm">): number {
  return 128 * r * (2 ** logN + p + 2);
}

function deriveScrypt(secret: Uint8Array, salt: Uint8Array, params: ScryptParams, length: number) {
  // maxmem must cover the allocation (Node's default cap is 32 MiB), and no more: it is also
  // what stops oversized parameters. 1 MiB slack covers OpenSSL's and BoringSSL's (workerd's)
  // slightly different accounting.
  const maxmem = scryptMemoryBytes(params) + 1024 * 1024;
  return new Promise<Uint8Array>((resolve, reject) => {
    scrypt(secret, salt, length, { N: 2 ** params.logN, r: params.r, p: params.p, maxmem }, (error, key) =>
      error ? reject(error) : resolve(new Uint8Array(key.buffer, key.byteOffset, key.byteLength)),
    );
  });
}

async function derivePbkdf2(
  secret: Uint8Array<ArrayBuffer>,
  salt: Uint8Array,
  params: Pbkdf2Params,
  length: number,
) {
  const key = await crypto.subtle.importKey("raw", secret, "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as Uint8Array<ArrayBuffer>, iterations: params.iterations },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}

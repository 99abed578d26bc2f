import { sha256Hex } from "./tokens";

/**
 * Crockford's base32 alphabet (https://www.crockford.com/base32.html), lowercase: digits plus
 * letters without i, l, o and u, so nothing on the sheet can be misread as something else.
 * 32 symbols = exactly 5 bits each, so masking a random byte with 31 is unbiased.
 */
export const RECOVERY_CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
/**
 * 12 symbols × 5 bits = 60 bits per code, above the 50 we require (the 20-bit lower bound NIST
 * SP 800-63B §5.1.2.1 sets for look-up secrets is far too low once hashes can leak).
 */
export const RECOVERY_CODE_LENGTH = 12;
/** Codes per set, as most services hand out (GitHub 16, Google 10). */
export const RECOVERY_CODE_COUNT = 10;

/**
 * A fresh set of distinct single-use codes, displayed as `xxxx-xxxx-xxxx`.
 *
 * @throws RangeError when `count` is not an integer from 1 to 100.
 */
export function generateRecoveryCodes(count: number = RECOVERY_CODE_COUNT): string[] {
  if (!Number.isInteger(count) || count < 1 || count > 100) {
    throw new RangeError("recovery code count must be an integer from 1 to 100");
  }
  const codes = new Set<string>();
  // A duplicate has probability ~count²/2^61; the loop only makes "distinct" a guarantee,
  // which the (user, code hash) unique index relies on.
  while (codes.size < count) codes.add(randomCode());
  return [...codes];
}

function randomCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(RECOVERY_CODE_LENGTH));
  let raw = "";
  for (const byte of bytes) raw += RECOVERY_CODE_ALPHABET[byte & 31];
  return raw.match(/.{4}/g)!.join("-");
}

/**
 * The canonical form that gets hashed: lowercase, without whitespace or dashes (ASCII and
 * Unicode ones, as phones autocorrect), and with Crockford's read-alike mapping (o → 0,
 * i and l → 1) so a mistyped look-alike still matches. Invalid input simply never matches.
 */
export function normalizeRecoveryCode(input: string): string {
  return input
    .toLowerCase()
    .replace(/[\s\-\u2010-\u2015\u2212]/g, "")
    .replace(/o/g, "0")
    .replace(/[il]/g, "1");
}

/**
 * Lowercase hex SHA-256 of the normalized code, the only form stored.
 *
 * Why unsalted, fast SHA-256 is enough: a code is 60 random bits, not a human choice, so there
 * is no dictionary to try and a slow hash buys nothing over the search space. Guessing one
 * given code offline takes ~2^59 hashes (years of GPU time). An unsalted hash lets a thief of
 * the whole table search all users' codes at once, dividing that by the number of unused codes
 * (~2^23 for a million users, leaving ~2^36 for *some* code), but a recovery code only stands
 * in for the TOTP factor: it never authenticates without the password or a reset token, and
 * online guessing is rate limited. If codes ever become a single factor, switch to an HMAC under
 * a server key (see keyed-hash.ts) or a per-user salt.
 */
export function hashRecoveryCode(code: string): Promise<string> {
  return sha256Hex(normalizeRecoveryCode(code));
}

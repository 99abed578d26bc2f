/**
 * TOTP (RFC 6238) for authenticator apps. Everything is fixed to what the apps actually
 * support interoperably (Google Authenticator ignores other algorithms, digits and periods).
 */
import { Secret, TOTP } from "otpauth";
import { renderSVG } from "uqr";

/** RFC 6238 §1.2 / RFC 4226 §5.3: 6 digits, the value every authenticator app displays. */
export const TOTP_DIGITS = 6;
/** RFC 6238 §5.2: "We RECOMMEND a default time-step size of 30 seconds". */
export const TOTP_PERIOD_SECONDS = 30;
/**
 * Steps accepted on either side of the current one. RFC 6238 §5.2 recommends allowing "at most
 * one time step" of network delay; ±1 also absorbs small clock drift on the phone.
 */
export const TOTP_WINDOW = 1;
/** RFC 6238 allows SHA-256/512, but SHA-1 is what apps honour; HOTP's use of HMAC-SHA-1 is not broken. */
export const TOTP_ALGORITHM = "SHA1";
/** 160-bit secrets: RFC 4226 §4 R6 requires 128 bits and recommends 160, the HMAC-SHA-1 output size. */
export const TOTP_SECRET_BYTES = 20;

const CODE_PATTERN = /^\d{6}$/;

/** A fresh shared secret: 20 random bytes, base32 (RFC 4648 §6) without padding, as apps expect. */
export function generateTotpSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(TOTP_SECRET_BYTES));
  return new Secret({ buffer: bytes.buffer }).base32;
}

/**
 * The `otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30` URI
 * that authenticator apps import (Key Uri Format), labels percent-encoded.
 */
export function totpUri({
  secret,
  issuer,
  account,
}: {
  secret: string;
  issuer: string;
  account: string;
}): string {
  return new TOTP({
    issuer,
    label: account,
    issuerInLabel: true,
    secret: Secret.fromBase32(secret),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  }).toString();
}

/**
 * The URI as a standalone SVG QR code. Error correction "M" (15%) keeps the symbol small
 * enough to scan from a screen while tolerating glare.
 */
export function totpQrSvg(uri: string): string {
  return renderSVG(uri, { ecc: "M", border: 2, pixelSize: 6 });
}

/** The RFC 6238 time step T = floor(unix seconds / 30) at `nowMs`. */
export function totpStepAt(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * Checks `code` against the steps within ±`window` of `nowMs` and returns the absolute time
 * step it belongs to, or null. The caller stores that step and refuses any step at or below it
 * afterwards: that is what makes a code single use (RFC 6238 §5.2, "MUST NOT" accept twice).
 * Only exactly six ASCII digits are considered; anything else (spaces, 8 digits) is null.
 */
export function matchTotpStep(
  secretBase32: string,
  code: string,
  nowMs: number,
  window: number = TOTP_WINDOW,
): number | null {
  if (!CODE_PATTERN.test(code)) return null;
  if (!Number.isInteger(window) || window < 0 || window > 10)
    throw new RangeError("TOTP window must be 0..10");
  const delta = TOTP.validate({
    token: code,
    secret: Secret.fromBase32(secretBase32),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    timestamp: nowMs,
    window,
  });
  // validate answers 0 for the current step: falsy, but a match. Only null means no match.
  if (delta === null) return null;
  return totpStepAt(nowMs) + delta;
}

/** The code an app would show at `nowMs` (for tests and development tooling). */
export function totpCodeAt(secretBase32: string, nowMs: number): string {
  return TOTP.generate({
    secret: Secret.fromBase32(secretBase32),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    timestamp: nowMs,
  });
}

/**
 * What the @peculiar ASN.1 packages (asn1-schema, asn1-ecc, asn1-x509, asn1-rsa,
 * asn1-x509-post-quantum) are in the Worker bundle: wrangler.toml `[alias]` points them here, for
 * `wrangler deploy` and `dev` only (Node, Lambda and the tests import the real ones).
 *
 * @simplewebauthn/server needs ASN.1 for two things. One is every ES256/ES384/ES512 assertion:
 * WebAuthn sends an ECDSA signature DER-encoded (RFC 3279 Ecdsa-Sig-Value, a SEQUENCE of two
 * INTEGERs r and s) and Web Crypto wants r‖s, so `unwrapEC2Signature` parses it with
 * `AsnParser.parse(signature, ECDSASigValue)`. That parse is implemented here, strict DER.
 * The other is attestation certificates (X.509 parsing for packed-with-x5c, tpm, android-key,
 * apple), which a service asking for attestation "none" never receives: as in
 * worker-no-attestation-certs.ts, those parses throw, so such an answer fails verification
 * (400 invalid_webauthn_response). The object identifiers are the packages' own values.
 * Together with that module this takes the ASN.1 code (asn1js, the schema packages, pvtsutils)
 * off the Worker bundle. test/unit/worker-asn1.test.ts  checks the parse against the real
 * @peculiar parser on generated signatures.
 */

const refuse = (): never => {
  throw new Error("ASN.1 structures other than ECDSA signatures are not parsed by the Worker");
};

/** RFC 3279 Ecdsa-Sig-Value: the only structure parsed here. */
export class ECDSASigValue {
  r = new ArrayBuffer(0);
  s = new ArrayBuffer(0);
}

/** Stands for a certificate structure the Worker does not parse (see the header). */
class Unparsed {
  constructor() {
    refuse();
  }
}

/** Reads one DER length at `at`; returns [length, next offset]. Minimal encodings only (DER). */
function derLength(bytes: Uint8Array, at: number): [number, number] {
  const first = bytes[at];
  if (first === undefined) throw new Error("DER: truncated length");
  if (first < 0x80) return [first, at + 1];
  // Signatures are at most ~140 bytes: one or two length bytes are all that can occur.
  const count = first & 0x7f;
  if (count === 0 || count > 2) throw new Error("DER: unsupported length");
  let length = 0;
  for (let i = 1; i <= count; i++) {
    const b = bytes[at + i];
    if (b === undefined) throw new Error("DER: truncated length");
    length = length * 256 + b;
  }
  if (length < 0x80 || (count === 2 && length < 0x100)) throw new Error("DER: length not minimal");
  return [length, at + 1 + count];
}

/** Reads one positive DER INTEGER at `at`; returns [its content bytes, next offset]. */
function derPositiveInteger(bytes: Uint8Array, at: number, end: number): [Uint8Array, number] {
  if (bytes[at] !== 0x02) throw new Error("DER: INTEGER expected");
  const [length, start] = derLength(bytes, at + 1);
  const stop = start + length;
  if (length === 0 || stop > end) throw new Error("DER: bad INTEGER length");
  const content = bytes.subarray(start, stop);
  const [b0 = 0, b1 = 0] = content;
  if (b0 & 0x80) throw new Error("DER: negative INTEGER");
  if (length > 1 && b0 === 0 && !(b1 & 0x80)) throw new Error("DER: INTEGER not minimal");
  return [content, stop];
}

/** Parses an Ecdsa-Sig-Value: SEQUENCE { r INTEGER, s INTEGER }, nothing before or after. */
export function parseEcdsaSignature(der: Uint8Array): { r: Uint8Array; s: Uint8Array } {
  if (der[0] !== 0x30) throw new Error("DER: SEQUENCE expected");
  const [length, start] = derLength(der, 1);
  const end = start + length;
  if (end !== der.length) throw new Error("DER: SEQUENCE length does not match");
  const [r, afterR] = derPositiveInteger(der, start, end);
  const [s, afterS] = derPositiveInteger(der, afterR, end);
  if (afterS !== end) throw new Error("DER: trailing data in SEQUENCE");
  return { r, s };
}

const copy = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer as ArrayBuffer;

/** @peculiar/asn1-schema's parser, for ECDSASigValue only (as unwrapEC2Signature calls it). */
export const AsnParser = {
  parse(data: ArrayBuffer | ArrayBufferView, type: unknown): ECDSASigValue {
    if (type !== ECDSASigValue) return refuse();
    const bytes =
      data instanceof Uint8Array
        ? data
        : ArrayBuffer.isView(data)
          ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
          : new Uint8Array(data);
    const { r, s } = parseEcdsaSignature(bytes);
    return Object.assign(new ECDSASigValue(), { r: copy(r), s: copy(s) });
  },
};

// @peculiar/asn1-schema
export class OctetString extends Unparsed {}

// @peculiar/asn1-ecc
export class ECParameters extends Unparsed {}
export const id_ecPublicKey = "1.2.840.10045.2.1";
export const id_secp256r1 = "1.2.840.10045.3.1.7";
export const id_secp384r1 = "1.3.132.0.34";
export const id_ecdsaWithSHA256 = "1.2.840.10045.4.3.2";
export const id_ecdsaWithSHA384 = "1.2.840.10045.4.3.3";
export const id_ecdsaWithSHA512 = "1.2.840.10045.4.3.4";

// @peculiar/asn1-x509
export class Certificate extends Unparsed {}
export class BasicConstraints extends Unparsed {}
export class ExtendedKeyUsage extends Unparsed {}
export class SubjectAlternativeName extends Unparsed {}
export const id_ce_basicConstraints = "2.5.29.19";
export const id_ce_extKeyUsage = "2.5.29.37";
export const id_ce_subjectAltName = "2.5.29.17";

// @peculiar/asn1-rsa
export class RSAPublicKey extends Unparsed {}
export const id_rsaEncryption = "1.2.840.113549.1.1.1";
export const id_sha1WithRSAEncryption = "1.2.840.113549.1.1.5";
export const id_sha256WithRSAEncryption = "1.2.840.113549.1.1.11";
export const id_sha384WithRSAEncryption = "1.2.840.113549.1.1.12";
export const id_sha512WithRSAEncryption = "1.2.840.113549.1.1.13";

// @peculiar/asn1-x509-post-quantum
export const id_ml_dsa_44 = "2.16.840.1.101.3.4.3.17";
export const id_ml_dsa_65 = "2.16.840.1.101.3.4.3.18";
export const id_ml_dsa_87 = "2.16.840.1.101.3.4.3.19";

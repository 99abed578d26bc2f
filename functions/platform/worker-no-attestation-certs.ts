/**
 * What `@peculiar/x509`, `@peculiar/asn1-android` and `reflect-metadata` are in the Worker
 * bundle: wrangler.toml `[alias]` points those packages here (for `wrangler deploy` and `dev`;
 * Node, Lambda and the tests import the real ones). @simplewebauthn/server uses them only to
 * check attestation CERTIFICATES (an x5c chain: packed with a certificate, fido-u2f, tpm,
 * android-key, apple) and their revocation lists. This service asks for `attestation: "none"`
 * (functions/mfa/webauthn.ts), so browsers answer with the "none" format or a self-attested
 * "packed" one, neither of which has a certificate: those never reach this module. An answer
 * that does carry a certificate chain reaches one of these constructors, which throw; the
 * library's verification fails and the registration is refused (400 invalid_webauthn_response),
 * as for any answer it cannot verify. Leaving them out takes ≈ 30 KiB gzip (the X.509 and CMS
 * parsers, tsyringe and reflect-metadata) off the Worker bundle. The signature checks of every
 * assertion (ES256 through @peculiar/asn1-ecc, RS256, EdDSA) are untouched.
 */

const refuse = (): never => {
  throw new Error("attestation certificates are not verified by the Worker (attestation is 'none')");
};

/** Constructs nothing: every use of a certificate class refuses. */
class Refused {
  constructor() {
    refuse();
  }
  static parse = refuse;
}

// @peculiar/x509, as imported by @simplewebauthn/server (validateCertificatePath, isCertRevoked).
export class X509Certificate extends Refused {}
export class X509ChainBuilder extends Refused {}
export class X509Crl extends Refused {}
export class AuthorityKeyIdentifierExtension extends Refused {}
export class CRLDistributionPointsExtension extends Refused {}
export class SubjectKeyIdentifierExtension extends Refused {}

// @peculiar/asn1-android, as imported by verifyAttestationAndroidKey.
export const id_ce_keyDescription = "1.3.6.1.4.1.11129.2.1.17";
export class KeyDescription extends Refused {}

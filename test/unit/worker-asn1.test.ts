/**
 * The Worker's stand-in for the @peculiar ASN.1 packages (functions/platform/worker-asn1.ts):
 * its DER parse of ECDSA signatures gives what the real @peculiar parser gives (the one
 * @simplewebauthn/server uses on Node) on every well-formed signature, accepts nothing the real
 * parser refuses, and refuses what DER does not allow. The built Worker signing in with a
 * passkey is test/unit/worker-bundle.test.ts.
 */

import { ECDSASigValue as RealSigValue } from "@peculiar/asn1-ecc";
import { AsnParser as RealParser } from "@peculiar/asn1-schema";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AsnParser,
  Certificate,
  ECDSASigValue,
  parseEcdsaSignature,
} from "../../functions/platform/worker-asn1";

/** DER of a positive INTEGER from big-endian magnitude bytes (minimal, sign byte when needed). */
function derInteger(magnitude: Uint8Array): number[] {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const v = [...magnitude.slice(i)];
  if (v.length === 0) v.push(0);
  if ((v[0] ?? 0) & 0x80) v.unshift(0);
  return [0x02, ...derLen(v.length), ...v];
}
const derLen = (n: number) => (n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff]);
const derSignature = (r: Uint8Array, s: Uint8Array) => {
  const body = [...derInteger(r), ...derInteger(s)];
  return new Uint8Array([0x30, ...derLen(body.length), ...body]);
};

const real = (der: Uint8Array) => {
  const v = RealParser.parse(der, RealSigValue);
  return { r: new Uint8Array(v.r), s: new Uint8Array(v.s) };
};
const ours = (der: Uint8Array) => {
  const v = AsnParser.parse(der, ECDSASigValue);
  return { r: new Uint8Array(v.r), s: new Uint8Array(v.s) };
};

const magnitude = fc.uint8Array({ minLength: 1, maxLength: 66 }); // P-256 … P-521

describe("the Worker's ECDSA signature parse", () => {
  it("gives what the real parser gives on well-formed signatures of every curve size", () => {
    fc.assert(
      fc.property(magnitude, magnitude, (r, s) => {
        const der = derSignature(r, s);
        expect(ours(der)).toEqual(real(der));
      }),
      { numRuns: 2000 },
    );
  });

  it("accepts nothing the real parser refuses, and agrees on what both accept", () => {
    const mutated = fc
      .tuple(magnitude, magnitude, fc.nat(200), fc.integer({ min: 0, max: 255 }))
      .map(([r, s, at, byte]) => {
        const der = derSignature(r, s);
        der[at % der.length] = byte;
        return der;
      });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 80 })), (der) => {
        let accepted: ReturnType<typeof ours> | undefined;
        try {
          accepted = ours(der);
        } catch {
          return; // refusing more than BER allows is DER's strictness
        }
        expect(accepted).toEqual(real(der));
      }),
      { numRuns: 5000 },
    );
  });

  it("refuses what DER does not allow", () => {
    const ok = [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02];
    expect(parseEcdsaSignature(new Uint8Array(ok))).toEqual({
      r: new Uint8Array([1]),
      s: new Uint8Array([2]),
    });
    const bad = {
      "trailing byte after the sequence": [...ok, 0x00],
      "trailing element in the sequence": [0x30, 0x09, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03],
      "negative r": [0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x02],
      "non-minimal integer": [0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x02],
      "non-minimal length": [0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02],
      "empty integer": [0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x02],
      "not a sequence": [0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02],
      truncated: [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01],
    };
    for (const [what, bytes] of Object.entries(bad)) {
      expect(() => parseEcdsaSignature(new Uint8Array(bytes)), what).toThrow(/DER/);
    }
  });

  it("parses no certificate structure (attestation certificates are refused on the Worker)", () => {
    expect(() => AsnParser.parse(new Uint8Array([0x30, 0x00]), Certificate)).toThrow();
    expect(() => new Certificate()).toThrow();
  });
});

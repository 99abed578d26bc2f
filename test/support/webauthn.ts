/**
 * A software authenticator for the tests (Node and workerd alike: Web Crypto only). It answers
 * creation options with a "none" attestation (CBOR-encoded attestationObject carrying an ES256
 * COSE key) and request options with assertions (authenticatorData + clientDataJSON, the
 * signature DER-encoded as WebAuthn requires for ES256), as navigator.credentials would after
 * the user touched the authenticator and passed its user verification.
 */
import { base64UrlToBytes, bytesToBase64Url, utf8Encode } from "../../functions/lib/encoding";

/** The origin the tests' browser runs on (the development default of WEBAUTHN_ORIGINS). */
export const TEST_ORIGIN = "http://localhost:8787";
export const TEST_RP_ID = "localhost";

// ---- a tiny CBOR encoder (RFC 8949): unsigned/negative ints, byte and text strings, arrays, maps ----
export type Cbor = number | string | Uint8Array | Cbor[] | Map<Cbor, Cbor>;

function head(major: number, n: number): number[] {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
  return [m | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

export function cbor(value: Cbor): Uint8Array {
  if (typeof value === "number") return new Uint8Array(value >= 0 ? head(0, value) : head(1, -1 - value));
  if (typeof value === "string") {
    const bytes = utf8Encode(value);
    return concat(new Uint8Array(head(3, bytes.length)), bytes);
  }
  if (value instanceof Uint8Array) return concat(new Uint8Array(head(2, value.length)), value);
  if (Array.isArray(value)) return concat(new Uint8Array(head(4, value.length)), ...value.map(cbor));
  const parts: Uint8Array[] = [new Uint8Array(head(5, value.size))];
  for (const [k, v] of value) parts.push(cbor(k), cbor(v));
  return concat(...parts);
}

export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const sha256 = async (bytes: Uint8Array) =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
const u32 = (n: number) => new Uint8Array([(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);

/** An ECDSA signature as WebAuthn sends it: ASN.1 DER SEQUENCE { r INTEGER, s INTEGER }. */
export function derSignature(raw: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    let v = bytes.slice(i);
    if ((v[0] ?? 0) & 0x80) v = concat(new Uint8Array([0]), v);
    return concat(new Uint8Array([0x02, v.length]), v);
  };
  const body = concat(integer(raw.slice(0, 32)), integer(raw.slice(32)));
  return concat(new Uint8Array([0x30, body.length]), body);
}

/** Flags of authenticatorData: user present, user verified, attested credential data. */
const UP = 0x01;
const UV = 0x04;
const AT = 0x40;

interface Credential {
  id: string;
  keys: CryptoKeyPair;
  /** The user handle given at registration (base64url). */
  userHandle: string;
  counter: number;
}

// The JSON shapes the API hands out and takes (a subset of the WebAuthn JSON types).
interface CreationOptionsJSON {
  challenge: string;
  rp: { id?: string };
  user: { id: string };
}
interface RequestOptionsJSON {
  challenge: string;
  rpId?: string;
  allowCredentials?: { id: string }[];
}

export interface RegistrationJSON {
  id: string;
  rawId: string;
  type: "public-key";
  response: { clientDataJSON: string; attestationObject: string; transports: string[] };
  clientExtensionResults: Record<string, never>;
  authenticatorAttachment: "platform";
}

export interface AssertionJSON {
  id: string;
  rawId: string;
  type: "public-key";
  response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle: string };
  clientExtensionResults: Record<string, never>;
  authenticatorAttachment: "platform";
}

export interface AssertOptions {
  /** Use this credential (default: the first of `allowCredentials` held, or any held). */
  credentialId?: string;
  /** Sign with this counter instead of the next one (a cloned authenticator). */
  counter?: number;
  /** An authenticator without a counter: always 0. */
  zeroCounter?: boolean;
  origin?: string;
}

export class SoftAuthenticator {
  readonly credentials = new Map<string, Credential>();
  constructor(readonly origin = TEST_ORIGIN) {}

  /** navigator.credentials.create(): a new ES256 credential for the options' user. */
  async create(
    json: object,
    /** `rawId`: reuse this credential id (an authenticator registering one credential twice). */
    opts: {
      zeroCounter?: boolean;
      rawId?: Uint8Array;
      /** Another attestation than "none" (e.g. one carrying an x5c certificate chain). */
      attestation?: { fmt: string; attStmt: Map<Cbor, Cbor> };
    } = {},
  ): Promise<RegistrationJSON> {
    const options = json as CreationOptionsJSON;
    const rpId = options.rp.id ?? TEST_RP_ID;
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const jwk = await crypto.subtle.exportKey("jwk", keys.publicKey);
    const coseKey = cbor(
      new Map<Cbor, Cbor>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, base64UrlToBytes(jwk.x ?? "")],
        [-3, base64UrlToBytes(jwk.y ?? "")],
      ]),
    );
    const rawId = opts.rawId ?? crypto.getRandomValues(new Uint8Array(16));
    const id = bytesToBase64Url(rawId);
    const counter = opts.zeroCounter ? 0 : 1;
    const authData = concat(
      await sha256(utf8Encode(rpId)),
      new Uint8Array([UP | UV | AT]),
      u32(counter),
      new Uint8Array(16), // aaguid: none
      new Uint8Array([0, rawId.length]),
      rawId,
      coseKey,
    );
    const attestationObject = cbor(
      new Map<Cbor, Cbor>([
        ["fmt", opts.attestation?.fmt ?? "none"],
        ["attStmt", opts.attestation?.attStmt ?? new Map()],
        ["authData", authData],
      ]),
    );
    const clientData = {
      type: "webauthn.create",
      challenge: options.challenge,
      origin: this.origin,
      crossOrigin: false,
    };
    this.credentials.set(id, { id, keys, userHandle: options.user.id, counter });
    return {
      id,
      rawId: id,
      type: "public-key",
      response: {
        clientDataJSON: bytesToBase64Url(utf8Encode(JSON.stringify(clientData))),
        attestationObject: bytesToBase64Url(attestationObject),
        transports: ["internal"],
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /** navigator.credentials.get(): an assertion over the options' challenge. */
  async get(json: object, opts: AssertOptions = {}): Promise<AssertionJSON> {
    const options = json as RequestOptionsJSON;
    const allowed = options.allowCredentials?.map((c) => c.id) ?? [];
    const id =
      opts.credentialId ??
      allowed.find((c) => this.credentials.has(c)) ??
      (allowed.length === 0 ? [...this.credentials.keys()][0] : undefined);
    const credential = id ? this.credentials.get(id) : undefined;
    if (!credential) throw new Error("no credential for these options");
    const counter = opts.counter ?? (opts.zeroCounter ? 0 : credential.counter + 1);
    credential.counter = Math.max(credential.counter, counter);
    const rpId = options.rpId ?? TEST_RP_ID;
    const authData = concat(await sha256(utf8Encode(rpId)), new Uint8Array([UP | UV]), u32(counter));
    const clientData = {
      type: "webauthn.get",
      challenge: options.challenge,
      origin: opts.origin ?? this.origin,
      crossOrigin: false,
    };
    const clientDataJSON = utf8Encode(JSON.stringify(clientData));
    const signed = concat(authData, await sha256(clientDataJSON));
    const raw = new Uint8Array(
      await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, credential.keys.privateKey, signed),
    );
    return {
      id: credential.id,
      rawId: credential.id,
      type: "public-key",
      response: {
        clientDataJSON: bytesToBase64Url(clientDataJSON),
        authenticatorData: bytesToBase64Url(authData),
        signature: bytesToBase64Url(derSignature(raw)),
        userHandle: credential.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }
}

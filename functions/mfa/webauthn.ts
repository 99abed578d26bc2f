/**
 * Passkeys (WebAuthn, via @simplewebauthn/server over Web Crypto): options for the browser,
 * and the checks of what it answers. Every challenge is a fresh random value, stored as a keyed
 * hash with its purpose, its user and its binding (what it completes: a session, an MFA
 * challenge, a reset token), lives 5 minutes and is consumed by the check that uses it, before
 * the signature is looked at: a replayed or parallel answer finds it gone.
 *
 * A credential's signature counter, when the stored or the presented one is not zero, must grow
 * (compare-and-set); a counter that does not is refused and recorded as
 * `mfa.passkey_counter_regression` (a cloned authenticator, or a replay).
 */

import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { uuidv7 } from "uuidv7";
import type { Config } from "../config";
import type { RequestScope } from "../context";
import * as z from "../http/zod";
import { base64UrlToBytes, bytesToBase64Url, utf8Decode, utf8Encode } from "../lib/encoding";
import { createKeyedHasher, type KeyedHasher } from "../lib/keyed-hash";
import { recordSecurityEvent } from "../security-events";
import {
  advanceSignCount,
  consumeWebauthnChallenge,
  findCredential,
  insertWebauthnChallenge,
  listUserCredentials,
  type WebauthnPurpose,
} from "../stores/webauthn";

/** How long a browser has to answer (the contract's 5 minutes). */
const CHALLENGE_TTL_MS = 5 * 60_000;
/** ES256 and RS256: what platform authenticators and security keys sign with. */
const ALGORITHMS = [-7, -257];

const hashers = new WeakMap<Config, KeyedHasher>();
/** The keyed hash a challenge is stored as (its own key, derived from IP_HASH_KEY). */
function hashChallenge(scope: RequestScope, challenge: string): Promise<string> {
  let hasher = hashers.get(scope.config);
  if (!hasher) {
    hasher = createKeyedHasher(scope.config.ipHashKey, "webauthn-challenge");
    hashers.set(scope.config, hasher);
  }
  return hasher(challenge);
}

/** What a challenge is for: its purpose, user and binding. */
interface ChallengeScope {
  purpose: WebauthnPurpose;
  userId: string | null;
  binding: string | null;
}

/** Binding of a challenge to the session that asked for it (enrollment, removing a factor…). */
export const sessionBinding = (sessionId: string) => `session:${sessionId}`;
/** Binding to a login's MFA challenge. */
export const mfaChallengeBinding = (challengeId: string) => `mfa:${challengeId}`;
/** Binding to a password reset token. */
export const resetBinding = (resetTokenId: string) => `reset:${resetTokenId}`;

/** A new random challenge, stored hashed; its value (base64url) goes to the browser. */
async function issueChallenge(scope: RequestScope, what: ChallengeScope) {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const id = uuidv7();
  await insertWebauthnChallenge(scope.db, {
    id,
    ...what,
    challengeHash: await hashChallenge(scope, bytesToBase64Url(bytes)),
    createdAt: scope.now,
    expiresAt: new Date(scope.now.getTime() + CHALLENGE_TTL_MS),
  });
  return { id, bytes };
}

/** The challenge the browser signed, read from clientDataJSON; null when it is not readable. */
function signedChallenge(clientDataJSON: string): string | null {
  try {
    const data: unknown = JSON.parse(utf8Decode(base64UrlToBytes(clientDataJSON)));
    const challenge = (data as { challenge?: unknown } | null)?.challenge;
    return typeof challenge === "string" && challenge.length > 0 && challenge.length <= 256
      ? challenge
      : null;
  } catch {
    return null;
  }
}

/** Consumes the challenge an answer signed, if it is the live one of `what` (else null). */
async function consumeSigned(
  scope: RequestScope,
  clientDataJSON: string,
  what: Partial<ChallengeScope> & { purpose: WebauthnPurpose; id?: string },
) {
  const challenge = signedChallenge(clientDataJSON);
  if (!challenge) return null;
  const consumed = await consumeWebauthnChallenge(
    scope.db,
    { ...what, challengeHash: await hashChallenge(scope, challenge) },
    scope.now,
  );
  return consumed ? challenge : null;
}

/** Creation options for a new passkey of `user` (resident key preferred, user verification required). */
export async function registrationOptions(
  scope: RequestScope,
  user: { id: string; email: string; displayName: string | null },
  sessionId: string,
) {
  const { rpId, rpName } = scope.config.webauthn;
  const { bytes } = await issueChallenge(scope, {
    purpose: "registration",
    userId: user.id,
    binding: sessionBinding(sessionId),
  });
  return generateRegistrationOptions({
    rpName,
    rpID: rpId,
    userName: user.email,
    userDisplayName: user.displayName ?? user.email,
    userID: utf8Encode(user.id),
    challenge: bytes,
    timeout: CHALLENGE_TTL_MS,
    attestationType: "none",
    // A second passkey on the same authenticator would be the same factor twice.
    excludeCredentials: await listUserCredentials(scope.db, user.id),
    authenticatorSelection: { residentKey: "preferred", userVerification: "required" },
    supportedAlgorithmIDs: ALGORITHMS,
  });
}

/** The credential a verified registration answer carries, ready to store. */
export interface NewCredential {
  credentialId: string;
  publicKey: string;
  signCount: number;
  transports: string[] | null;
  backupEligible: boolean;
  backupState: boolean;
  aaguid: string | null;
}

/**
 * Checks a registration answer against the live registration challenge of this user and
 * session (consumed here). Null when it is not valid for any reason.
 */
export async function verifyRegistration(
  scope: RequestScope,
  userId: string,
  sessionId: string,
  response: RegistrationResponseJSON,
): Promise<NewCredential | null> {
  const challenge = await consumeSigned(scope, response.response.clientDataJSON, {
    purpose: "registration",
    userId,
    binding: sessionBinding(sessionId),
  });
  if (!challenge) return null;
  const { rpId, origins } = scope.config.webauthn;
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: origins,
      expectedRPID: rpId,
      requireUserVerification: true,
      supportedAlgorithmIDs: ALGORITHMS,
    });
    if (!result.verified) return null;
    const info = result.registrationInfo;
    return {
      credentialId: info.credential.id,
      publicKey: bytesToBase64Url(info.credential.publicKey),
      signCount: info.credential.counter,
      transports: info.credential.transports ?? null,
      backupEligible: info.credentialDeviceType === "multiDevice",
      backupState: info.credentialBackedUp,
      aaguid: info.aaguid,
    };
  } catch {
    // A malformed or forged answer: the library throws with a reason we do not echo.
    return null;
  }
}

/**
 * Request options for an assertion: for the user's passkeys (a second factor), or for any
 * discoverable credential (`userId` null: passwordless sign-in). The challenge id is what a
 * passwordless answer names.
 */
export async function assertionOptions(scope: RequestScope, what: ChallengeScope) {
  const { id, bytes } = await issueChallenge(scope, what);
  const options = await generateAuthenticationOptions({
    rpID: scope.config.webauthn.rpId,
    allowCredentials: what.userId ? await listUserCredentials(scope.db, what.userId) : [],
    challenge: bytes,
    timeout: CHALLENGE_TTL_MS,
    userVerification: "required",
  });
  return { options, challengeId: id };
}

/** What an accepted assertion proved: whose passkey, which factor. */
export interface PasskeyProof {
  userId: string;
  factorId: string;
}

/**
 * Checks an assertion: a credential of a verified factor (of `expected.userId` when given),
 * the live challenge of that purpose and binding (consumed here), the signature with user
 * verification, and a growing counter. Null when any of that fails.
 */
export async function verifyAssertion(
  scope: RequestScope,
  response: AuthenticationResponseJSON,
  expected: { purpose: WebauthnPurpose; userId?: string; binding?: string | null; challengeId?: string },
): Promise<PasskeyProof | null> {
  const credential = await findCredential(scope.db, response.id);
  // Another user's credential is refused before anything is consumed.
  if (!credential || (expected.userId !== undefined && credential.userId !== expected.userId)) return null;
  const { userHandle } = response.response;
  if (userHandle !== undefined && userHandle !== bytesToBase64Url(utf8Encode(credential.userId))) return null;
  const challenge = await consumeSigned(scope, response.response.clientDataJSON, {
    purpose: expected.purpose,
    ...(expected.userId !== undefined ? { userId: expected.userId } : {}),
    ...(expected.binding !== undefined ? { binding: expected.binding } : {}),
    ...(expected.challengeId !== undefined ? { id: expected.challengeId } : {}),
  });
  if (!challenge) return null;
  const { rpId, origins } = scope.config.webauthn;
  let newCounter: number;
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: origins,
      expectedRPID: rpId,
      // Counter 0: the library skips its own counter check; ours below is a compare-and-set.
      credential: {
        id: credential.credentialId,
        publicKey: base64UrlToBytes(credential.publicKey),
        counter: 0,
        ...(credential.transports ? { transports: credential.transports } : {}),
      },
      requireUserVerification: true,
    });
    if (!result.verified) return null;
    newCounter = result.authenticationInfo.newCounter;
  } catch {
    return null;
  }
  if (!(await advanceSignCount(scope.db, credential.factorId, newCounter, scope.now))) {
    await recordSecurityEvent(scope, {
      type: "mfa.passkey_counter_regression",
      userId: credential.userId,
      metadata: {
        factorId: credential.factorId,
        storedCounter: credential.signCount,
        presentedCounter: newCounter,
      },
    });
    return null;
  }
  return { userId: credential.userId, factorId: credential.factorId };
}

/** A base64url field of a browser's answer (padding tolerated and dropped). */
const B64Url = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[A-Za-z0-9_-]*={0,2}$/, { message: "must be base64url" })
    .transform((s) => s.replace(/=+$/, ""));

const credentialFields = {
  id: B64Url(1366),
  rawId: B64Url(1366),
  type: z.literal("public-key"),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
};

/** PublicKeyCredential.toJSON() of navigator.credentials.create() (RegistrationResponseJSON). */
export const RegistrationResponseSchema = z
  .object({
    ...credentialFields,
    response: z.object({
      clientDataJSON: B64Url(8192),
      attestationObject: B64Url(32_768),
      authenticatorData: B64Url(16_384).optional(),
      transports: z.array(z.string().max(32)).max(8).optional(),
      publicKeyAlgorithm: z.number().int().optional(),
      publicKey: B64Url(8192).optional(),
    }),
  })
  .openapi("RegistrationResponseJSON");

/** PublicKeyCredential.toJSON() of navigator.credentials.get() (AuthenticationResponseJSON). */
export const AuthenticationResponseSchema = z
  .object({
    ...credentialFields,
    response: z.object({
      clientDataJSON: B64Url(8192),
      authenticatorData: B64Url(16_384),
      signature: B64Url(2048),
      userHandle: B64Url(128).optional(),
    }),
  })
  .openapi("AuthenticationResponseJSON");

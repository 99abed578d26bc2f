/**
 * Passkeys (WebAuthn). Enrollment for the signed-in user (mounted at /v1/mfa/webauthn): options,
 * then the browser's answer, which stores a verified `webauthn` factor like a confirmed TOTP
 * factor; and assertion options for the session's own second-factor checks (removing a factor,
 * regenerating recovery codes). Sign-in (mounted at /v1/auth): assertion options for a login's
 * MFA challenge and for a reset token, and passwordless sign-in with a discoverable credential.
 * The checks themselves are in mfa/webauthn.ts; a passkey as a second factor is checked by the
 * one second-factor verifier (mfa/second-factor.ts).
 */
import { uuidv7 } from "uuidv7";
import { isUniqueViolation } from "../../db/unique-violation";
import { limitKeys, reserveAttempt, secondFactorChecks } from "../auth/rate-limits";
import { AuthenticatedSchema } from "../auth/schemas";
import { signedInAnswer } from "../auth/session-cookie";
import { issuePasskeySession } from "../auth/sign-in";
import { requireRecentAuthentication, STEP_UP_ERRORS, stepUpFields } from "../auth/step-up";
import { requireVerifiedEmail, requireVerifiedToSignIn } from "../auth/verification";
import { ApiError } from "../http/problems";
import { json } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse, Uuid } from "../http/schemas";
import * as z from "../http/zod";
import { sha256Hex } from "../lib/tokens";
import { prepareFactorVerified } from "../mfa/factor-verified";
import {
  AuthenticationResponseSchema,
  assertionOptions,
  mfaChallengeBinding,
  RegistrationResponseSchema,
  registrationOptions,
  resetBinding,
  sessionBinding,
  verifyAssertion,
  verifyRegistration,
} from "../mfa/webauthn";
import { recordSecurityEvent, securityEventRow } from "../security-events";
import { findLiveChallenge } from "../stores/challenges";
import { countVerifiedFactors, factorView } from "../stores/factors";
import { findLiveResetToken } from "../stores/reset-tokens";
import { insertSecurityEvents } from "../stores/security-events";
import { findUserById, lockUser } from "../stores/users";
import { credentialExists, findCredential, insertCredential } from "../stores/webauthn";

// The options are the JSON the browser's PublicKeyCredential.parseCreationOptionsFromJSON /
// parseRequestOptionsFromJSON read; documented as objects, passed through as generated.
const CreationOptions = z
  .record(z.string(), z.unknown())
  .openapi("PublicKeyCredentialCreationOptionsJSON", { description: "WebAuthn creation options" });
const RequestOptions = z
  .record(z.string(), z.unknown())
  .openapi("PublicKeyCredentialRequestOptionsJSON", { description: "WebAuthn request options" });

const PasskeyFactorSchema = z.object({
  id: z.string(),
  type: z.literal("webauthn"),
  status: z.literal("verified"),
  label: z.string().nullable(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
});

const registrationStart = defineRoute(
  {
    method: "post",
    path: "/registration/options",
    tags: ["mfa"],
    summary: "Start registering a passkey: creation options for navigator.credentials.create()",
    security: [{ bearer: [] }],
    request: jsonRequest(z.object({ ...stepUpFields }), false),
    responses: { 200: jsonResponse("Creation options", z.object({ options: CreationOptions })) },
    errors: ["aal2_required", "email_not_verified", ...STEP_UP_ERRORS],
  },
  async (scope, { body }) => {
    const { userId, aal, sessionId } = scope.auth;
    // As for TOTP: a protected account adds a factor only from an aal-2 session, recently
    // authenticated, with a verified address.
    if (aal < 2 && (await countVerifiedFactors(scope.db, userId)) > 0) throw new ApiError("aal2_required");
    await requireRecentAuthentication(scope, body?.currentPassword);
    await requireVerifiedEmail(scope);
    const user = await findUserById(scope.db, userId);
    if (!user) throw new ApiError("unauthorized");
    return json({ options: await registrationOptions(scope, user, sessionId) });
  },
);

const registrationFinish = defineRoute(
  {
    method: "post",
    path: "/registration/verify",
    tags: ["mfa"],
    summary: "Finish registering a passkey with the browser's answer",
    security: [{ bearer: [] }],
    request: jsonRequest(
      z.object({ response: RegistrationResponseSchema, label: z.string().trim().min(1).max(64).optional() }),
    ),
    responses: {
      201: jsonResponse(
        "Verified passkey; recovery codes only for the first verified factor",
        z.object({ factor: PasskeyFactorSchema, recoveryCodes: z.array(z.string()).optional() }),
      ),
    },
    errors: ["invalid_webauthn_response"],
  },
  async (scope, { body }) => {
    const { t } = scope.db;
    const { userId, sessionId } = scope.auth;
    const { now } = scope;
    // The answer must sign this session's live registration challenge (consumed by the check).
    const credential = await verifyRegistration(scope, userId, sessionId, body.response);
    if (!credential) throw new ApiError("invalid_webauthn_response");
    if (await credentialExists(scope.db, credential.credentialId)) {
      throw new ApiError("invalid_webauthn_response", "This passkey is already registered.");
    }
    const first = (await countVerifiedFactors(scope.db, userId)) === 0;
    const id = uuidv7();
    const factor = {
      id,
      userId,
      type: "webauthn" as const,
      status: "verified" as const,
      label: body.label ?? null,
      createdAt: now,
      verifiedAt: now,
    };
    const registered = await securityEventRow(scope, {
      type: "mfa.passkey_registered",
      userId,
      metadata: { factorId: id },
    });
    const verified = await prepareFactorVerified(scope, id, first);
    let recoveryCodes: string[] | undefined;
    try {
      const results = await scope.db.atomic((db) => [
        lockUser(db, t, userId),
        db.insert(t.userMfaMethods).values(factor),
        insertCredential(db, t, { factorId: id, userId, ...credential, createdAt: now }),
        ...insertSecurityEvents(db, t, [registered]),
        ...verified.writes(db),
      ]);
      // The writes are the batch's last statements.
      recoveryCodes = verified.shownCodes(results);
    } catch (err) {
      // Two registrations of one credential racing past the check above: the unique index on the
      // credential id decides, and the loser's batch (factor included) is rolled back whole.
      if (isUniqueViolation(err)) {
        throw new ApiError("invalid_webauthn_response", "This passkey is already registered.");
      }
      throw err;
    }
    return json(
      {
        factor: {
          ...factorView({ ...factor, lastUsedAt: null }),
          type: "webauthn" as const,
          status: "verified" as const,
        },
        ...(recoveryCodes ? { recoveryCodes } : {}),
      },
      201,
    );
  },
);

const sessionAssertion = defineRoute(
  {
    method: "post",
    path: "/authentication/options",
    tags: ["mfa"],
    summary: "Request options to prove a passkey in this session (removing a factor, new recovery codes)",
    security: [{ bearer: [] }],
    responses: { 200: jsonResponse("Request options", z.object({ options: RequestOptions })) },
  },
  async (scope) => {
    const { userId, sessionId } = scope.auth;
    const binding = sessionBinding(sessionId);
    const { options } = await assertionOptions(scope, { purpose: "authentication", userId, binding });
    return json({ options });
  },
);

const mfaAssertion = defineRoute(
  {
    method: "post",
    path: "/mfa/webauthn/options",
    tags: ["auth"],
    summary: "Request options to answer a login's MFA challenge with a passkey",
    request: jsonRequest(z.object({ challengeToken: z.string().min(1).max(256) })),
    responses: { 200: jsonResponse("Request options", z.object({ options: RequestOptions })) },
    errors: ["invalid_challenge"],
  },
  async (scope, { body }) => {
    const challenge = await findLiveChallenge(
      scope.db,
      await sha256Hex(body.challengeToken),
      scope.now,
      scope.config.mfaChallengeMaxFailures,
    );
    if (!challenge) throw new ApiError("invalid_challenge");
    const { options } = await assertionOptions(scope, {
      purpose: "authentication",
      userId: challenge.userId,
      binding: mfaChallengeBinding(challenge.id),
    });
    return json({ options });
  },
);

const resetAssertion = defineRoute(
  {
    method: "post",
    path: "/password/reset/webauthn/options",
    tags: ["auth"],
    summary: "Request options to complete a password reset with a passkey",
    request: jsonRequest(z.object({ token: z.string().min(1).max(256) })),
    responses: { 200: jsonResponse("Request options", z.object({ options: RequestOptions })) },
    errors: ["invalid_token"],
  },
  async (scope, { body }) => {
    const token = await findLiveResetToken(scope.db, await sha256Hex(body.token), scope.now);
    if (!token) throw new ApiError("invalid_token");
    const { options } = await assertionOptions(scope, {
      purpose: "authentication",
      userId: token.userId,
      binding: resetBinding(token.id),
    });
    return json({ options });
  },
);

const passkeyStart = defineRoute(
  {
    method: "post",
    path: "/passkey/options",
    tags: ["auth"],
    summary: "Start a passwordless sign-in: request options for a discoverable passkey",
    responses: {
      200: jsonResponse(
        "Request options and the id to answer them with",
        z.object({ options: RequestOptions, passkeyChallengeId: z.string() }),
      ),
    },
  },
  async (scope) => {
    const { options, challengeId } = await assertionOptions(scope, {
      purpose: "passkey",
      userId: null,
      binding: null,
    });
    return json({ options, passkeyChallengeId: challengeId });
  },
);

const passkeyFinish = defineRoute(
  {
    method: "post",
    path: "/passkey/verify",
    tags: ["auth"],
    summary:
      "Passwordless sign-in: a session (aal 2) for a passkey verified with the user's presence and verification",
    request: jsonRequest(z.object({ passkeyChallengeId: Uuid, response: AuthenticationResponseSchema })),
    responses: { 200: jsonResponse("Authenticated at aal 2", AuthenticatedSchema) },
    errors: ["invalid_webauthn_assertion", "email_not_verified", "rate_limited", "rate_limit_unavailable"],
  },
  async (scope, { body }) => {
    // Counted like any second-factor check before it is made: on the credential's owner when the
    // credential is known, on the network always. A right one gives its count back.
    const owner = (await findCredential(scope.db, body.response.id))?.userId ?? null;
    const checks = owner
      ? await secondFactorChecks(scope, owner)
      : [{ rule: scope.config.rateLimits.mfaPerNetwork, identifier: await limitKeys.network(scope) }];
    const release = await reserveAttempt(scope, checks, owner);
    const proof = await verifyAssertion(scope, body.response, {
      purpose: "passkey",
      challengeId: body.passkeyChallengeId,
    });
    if (!proof) {
      await recordSecurityEvent(scope, {
        type: "auth.login_failed",
        userId: owner,
        metadata: { reason: "invalid_webauthn_response" },
      });
      throw new ApiError("invalid_webauthn_assertion");
    }
    await release();
    const user = await findUserById(scope.db, proof.userId);
    if (!user) throw new ApiError("invalid_webauthn_assertion");
    requireVerifiedToSignIn(scope, user);
    return signedInAnswer(scope, await issuePasskeySession(scope, user, proof.factorId));
  },
);

/** Passkey enrollment and in-session assertions (mounted at /v1/mfa/webauthn). */
export const webauthnMfaRoutes = routeModule(registrationStart, registrationFinish, sessionAssertion);

/** Passkey options for MFA and reset, and passwordless sign-in (mounted at /v1/auth). */
export const webauthnAuthRoutes = routeModule(mfaAssertion, resetAssertion, passkeyStart, passkeyFinish);

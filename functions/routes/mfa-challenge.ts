/**
 * POST /v1/auth/mfa/verify: answering a login's MFA challenge. One statement finds the
 * challenge and counts the attempt against its cap (its user decides the rate-limit bucket),
 * then the second-factor verifier applies the limits and checks the factor; the challenge is
 * consumed with a compare-and-set so it is single use under races.
 */
import { AuthenticatedSchema } from "../auth/schemas";
import { signedInAnswer } from "../auth/session-cookie";
import { issueSession } from "../auth/sign-in";
import { requireVerifiedToSignIn } from "../auth/verification";
import { ApiError } from "../http/problems";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse } from "../http/schemas";
import * as z from "../http/zod";
import { sha256Hex } from "../lib/tokens";
import { verifySecondFactor, withSecondFactor } from "../mfa/second-factor";
import { mfaChallengeBinding } from "../mfa/webauthn";
import { RateLimitUnavailableError } from "../ratelimit/types";
import { claimChallengeAttempt, consumeChallenge, releaseChallengeAttempt } from "../stores/challenges";
import { findUserById } from "../stores/users";

const verify = defineRoute(
  {
    method: "post",
    path: "/verify",
    tags: ["auth"],
    summary: "Answer an MFA challenge with a TOTP code, a recovery code or a passkey assertion",
    request: jsonRequest(withSecondFactor({ challengeToken: z.string().min(1).max(256) })),
    responses: { 200: jsonResponse("Authenticated at aal 2", AuthenticatedSchema) },
    errors: [
      "invalid_mfa_code",
      "invalid_challenge",
      "email_not_verified",
      "rate_limited",
      "rate_limit_unavailable",
    ],
  },
  async (scope, { body }) => {
    const challenge = await claimChallengeAttempt(
      scope.db,
      await sha256Hex(body.challengeToken),
      scope.now,
      scope.config.mfaChallengeMaxFailures,
    );
    if (!challenge) throw new ApiError("invalid_challenge");
    let method: string;
    try {
      const who = {
        userId: challenge.userId,
        flow: "login" as const,
        webauthnBinding: mfaChallengeBinding(challenge.id),
      };
      ({ method } = await verifySecondFactor(scope, who, body));
    } catch (err) {
      // A code the limiter kept from being checked does not use up the challenge.
      const unchecked =
        err instanceof RateLimitUnavailableError || (err instanceof ApiError && err.code === "rate_limited");
      if (unchecked) await releaseChallengeAttempt(scope.db, challenge.id);
      throw err;
    }
    // Single use: of two requests racing on one challenge, only one consumes it.
    if (!(await consumeChallenge(scope.db, challenge.id, scope.now))) throw new ApiError("invalid_challenge");
    const user = await findUserById(scope.db, challenge.userId);
    if (!user) throw new ApiError("invalid_challenge");
    requireVerifiedToSignIn(scope, user);
    return signedInAnswer(
      scope,
      await issueSession(scope, user, 2, [
        { type: "auth.mfa_succeeded", userId: user.id, metadata: { method, flow: "login" } },
        { type: "auth.login_succeeded", userId: user.id, metadata: { aal: 2, method } },
      ]),
    );
  },
);

/** The second step of a login (mounted at /v1/auth/mfa). */
export const mfaChallengeRoutes = routeModule(verify);

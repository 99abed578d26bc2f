/**
 * POST /v1/auth/mfa/verify: answering a login's MFA challenge. One statement finds the
 * challenge and counts the attempt against its cap (its user decides the rate-limit bucket),
 * read in the same batch as the user and its TOTP factors; then the second-factor verifier
 * applies the limits and checks the factor; the challenge is consumed with a compare-and-set so
 * it is single use under races. A TOTP answer costs two database round trips and one limiter
 * round trip: the code's step, the challenge and the session are written in one batch
 * (auth/sign-in.ts issueChallengeSession).
 */
import { AuthenticatedSchema } from "../auth/schemas";
import { signedInAnswer } from "../auth/session-cookie";
import { issueChallengeSession, issueSession } from "../auth/sign-in";
import { requireVerifiedToSignIn } from "../auth/verification";
import { ApiError } from "../http/problems";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse } from "../http/schemas";
import * as z from "../http/zod";
import { sha256Hex } from "../lib/tokens";
import { verifySecondFactor, verifyTotpAgainst, withSecondFactor } from "../mfa/second-factor";
import { mfaChallengeBinding } from "../mfa/webauthn";
import { RateLimitUnavailableError } from "../ratelimit/types";
import type { SecurityEventInput } from "../security-events";
import { claimChallengeWithUser, consumeChallenge, releaseChallengeAttempt } from "../stores/challenges";

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
    // One round trip: the attempt is claimed, and the user and its TOTP factors read with it.
    const claimed = await claimChallengeWithUser(
      scope.db,
      await sha256Hex(body.challengeToken),
      scope.now,
      scope.config.mfaChallengeMaxFailures,
    );
    if (!claimed) throw new ApiError("invalid_challenge");
    const { challenge, user } = claimed;
    const who = {
      userId: challenge.userId,
      flow: "login" as const,
      webauthnBinding: mfaChallengeBinding(challenge.id),
    };
    const events = (method: string): SecurityEventInput[] => [
      { type: "auth.mfa_succeeded", userId: challenge.userId, metadata: { method, flow: "login" } },
      { type: "auth.login_succeeded", userId: challenge.userId, metadata: { aal: 2, method } },
    ];
    try {
      if (body.code !== undefined) {
        // A TOTP code: checked against the factors read above and spent in the batch that
        // issues the session and consumes the challenge (one more round trip in all).
        if (!user) throw new ApiError("invalid_challenge");
        requireVerifiedToSignIn(scope, user);
        const code = body.code;
        const issued = await verifyTotpAgainst(scope, who, claimed.factors, code, async (match) => {
          const answer = await issueChallengeSession(scope, user, challenge.id, match, events("totp"));
          if (answer === "closed") throw new ApiError("invalid_challenge");
          return answer === "replayed" ? null : answer;
        });
        return signedInAnswer(scope, issued);
      }
      const { method } = await verifySecondFactor(scope, who, body);
      // Single use: of two requests racing on one challenge, only one consumes it.
      if (!(await consumeChallenge(scope.db, challenge.id, scope.now)))
        throw new ApiError("invalid_challenge");
      if (!user) throw new ApiError("invalid_challenge");
      requireVerifiedToSignIn(scope, user);
      return signedInAnswer(scope, await issueSession(scope, user, 2, events(method)));
    } catch (err) {
      // A code the limiter kept from being checked does not use up the challenge.
      const unchecked =
        err instanceof RateLimitUnavailableError || (err instanceof ApiError && err.code === "rate_limited");
      if (unchecked) await releaseChallengeAttempt(scope.db, challenge.id);
      throw err;
    }
  },
);

/** The second step of a login (mounted at /v1/auth/mfa). */
export const mfaChallengeRoutes = routeModule(verify);

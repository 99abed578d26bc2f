/**
 * POST /v1/auth/mfa/verify: answering a login's MFA challenge. The challenge is looked up
 * first (its user decides the rate-limit bucket), then the limits, then the code; the
 * challenge is consumed with a compare-and-set so it is single use under races.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, eq, gt, isNull, lt, sql } from "drizzle-orm";
import { AuthenticatedSchema, exactlyOneSecondFactor, RecoveryCode, TotpCode } from "../auth/schemas";
import { issueSession } from "../auth/sign-in";
import { userColumns } from "../auth/users";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../http/problems";
import { defineRoute } from "../http/route";
import { jsonRequest, jsonResponse, problemResponses } from "../http/schemas";
import { jsonBody } from "../http/validation";
import { sha256Hex } from "../lib/tokens";
import { checkSecondFactor, consumeMfaLimits } from "../mfa/second-factor";
import { recordSecurityEvent } from "../security-events";

// ---------------------------------------------------------------------------------------------
const MfaVerifyBody = z
  .object({
    challengeToken: z.string().min(1).max(256),
    code: TotpCode.optional(),
    recoveryCode: RecoveryCode.optional(),
  })
  .refine(...exactlyOneSecondFactor);

/** The second step of a login (mounted at /v1/auth/mfa). */
export const mfaChallengeRoutes = defineRoute(
  new OpenAPIHono<AppEnv>(),
  createRoute({
    method: "post",
    path: "/verify",
    tags: ["auth"],
    summary: "Answer an MFA challenge with a TOTP code or a recovery code",
    request: jsonRequest(MfaVerifyBody),
    responses: {
      200: jsonResponse("Authenticated at aal 2", AuthenticatedSchema),
      ...problemResponses(
        "invalid_request",
        "invalid_mfa_code",
        "invalid_challenge",
        "rate_limited",
        "rate_limit_unavailable",
      ),
    },
  }),
  async (c: AppContext) => {
    const body = await jsonBody(c, MfaVerifyBody);
    const { db, t } = c.var.db;
    const ch = t.mfaChallenges;
    const now = c.var.now;
    const { mfaChallengeMaxFailures } = c.var.config;
    const live = and(
      eq(ch.tokenHash, await sha256Hex(body.challengeToken)),
      isNull(ch.consumedAt),
      gt(ch.expiresAt, now),
    );
    const [challenge] = await db
      .select({ id: ch.id, userId: ch.userId, failed: ch.failedAttempts })
      .from(ch)
      .where(live);
    if (!challenge || challenge.failed >= mfaChallengeMaxFailures) throw new ApiError("invalid_challenge");
    await consumeMfaLimits(c, challenge.userId);

    const result = await checkSecondFactor(c, challenge.userId, body);
    if (!result.ok) {
      // Wrong codes of either kind count toward the challenge's attempts.
      await db
        .update(ch)
        .set({ failedAttempts: sql`${ch.failedAttempts} + 1` })
        .where(eq(ch.id, challenge.id));
      await recordSecurityEvent(c, {
        type: "auth.mfa_failed",
        userId: challenge.userId,
        metadata: { flow: "login" },
      });
      throw new ApiError("invalid_mfa_code");
    }
    // Single use: of two requests racing on one challenge, only one consumes it.
    const consumed = await db
      .update(ch)
      .set({ consumedAt: now })
      .where(
        and(eq(ch.id, challenge.id), isNull(ch.consumedAt), lt(ch.failedAttempts, mfaChallengeMaxFailures)),
      )
      .returning({ id: ch.id });
    if (consumed.length === 0) throw new ApiError("invalid_challenge");
    const [user] = await db.select(userColumns(c)).from(t.users).where(eq(t.users.id, challenge.userId));
    if (!user) throw new ApiError("invalid_challenge");
    const method = result.method;
    return c.json(
      await issueSession(c, user, 2, [
        { type: "auth.mfa_succeeded", userId: user.id, metadata: { method, flow: "login" } },
        { type: "auth.login_succeeded", userId: user.id, metadata: { aal: 2, method } },
      ]),
    );
  },
);

/**
 * Password reset: `forgot` queues a message with a single-use token (always 202, no account
 * enumeration); `reset` enforces the user's second factor before spending the token, then
 * changes the password and revokes every other session in one batch.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, eq, gt, isNull } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import { emailIdentifier } from "../auth/rate-limits";
import { AuthenticatedSchema, Email, Password, RecoveryCode, TotpCode } from "../auth/schemas";
import { revokeSessions } from "../auth/sessions";
import { issueSession, verifiedFactorCount } from "../auth/sign-in";
import { requireStrongPassword, userColumns } from "../auth/users";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../http/problems";
import { defineRoute } from "../http/route";
import { jsonRequest, jsonResponse, problemResponses } from "../http/schemas";
import { jsonBody } from "../http/validation";
import { hashPassword } from "../lib/password";
import { generateToken, sha256Hex } from "../lib/tokens";
import { checkSecondFactor, consumeMfaLimits } from "../mfa/second-factor";
import { recordSecurityEvent, type SecurityEventInput, securityEventRow } from "../security-events";

// ---------------------------------------------------------------------------------------------
const ForgotBody = z.object({ email: Email });

const withForgot = defineRoute(
  new OpenAPIHono<AppEnv>(),
  createRoute({
    method: "post",
    path: "/forgot",
    tags: ["auth"],
    summary: "Send a password reset message (always 202)",
    request: jsonRequest(ForgotBody),
    responses: { 202: { description: "Accepted" }, ...problemResponses("invalid_request") },
  }),
  async (c: AppContext) => {
    const { email } = await jsonBody(c, ForgotBody);
    const { db, t } = c.var.db;
    const [user] = await db.select({ id: t.users.id }).from(t.users).where(eq(t.users.email, email)).limit(1);
    const allowed = await c.var.limiter.limit(
      c.var.config.rateLimits.forgotPerEmail,
      await emailIdentifier(c, email),
    );
    if (user && allowed.allowed) {
      const token = generateToken();
      const messageId = uuidv7();
      const sealed = await c.var.vault.box.seal(JSON.stringify({ token }), messageId);
      const event = await securityEventRow(c, { type: "auth.password_reset_requested", userId: user.id });
      const now = c.var.now;
      const tokenHash = await sha256Hex(token);
      await c.var.db.atomic((tx) => [
        tx.insert(t.passwordResetTokens).values({
          id: uuidv7(),
          userId: user.id,
          tokenHash,
          createdAt: now,
          expiresAt: new Date(now.getTime() + c.var.config.passwordResetTtlMs),
        }),
        tx.insert(t.outboxMessages).values({
          id: messageId,
          recipient: email,
          kind: "password_reset",
          payloadKeyId: sealed.keyId,
          payloadCiphertext: sealed.ciphertext,
          createdAt: now,
        }),
        tx.insert(t.securityEvents).values(event),
      ]);
    }
    return c.body(null, 202);
  },
);

const ResetBody = z.object({
  token: z.string().min(1).max(256),
  newPassword: Password,
  code: TotpCode.optional(),
  recoveryCode: RecoveryCode.optional(),
});

const withReset = defineRoute(
  withForgot,
  createRoute({
    method: "post",
    path: "/reset",
    tags: ["auth"],
    summary: "Set a new password with a reset token (and a second factor when the user has one)",
    request: jsonRequest(ResetBody),
    responses: {
      200: jsonResponse("Authenticated", AuthenticatedSchema),
      ...problemResponses(
        "invalid_request",
        "weak_password",
        "invalid_token",
        "mfa_required",
        "invalid_mfa_code",
        "rate_limited",
        "rate_limit_unavailable",
      ),
    },
  }),
  async (c: AppContext) => {
    const body = await jsonBody(c, ResetBody);
    requireStrongPassword(body.newPassword);
    const { db, t } = c.var.db;
    const r = t.passwordResetTokens;
    const now = c.var.now;
    const [reset] = await db
      .select({ id: r.id, userId: r.userId })
      .from(r)
      .where(and(eq(r.tokenHash, await sha256Hex(body.token)), isNull(r.usedAt), gt(r.expiresAt, now)))
      .limit(1);
    if (!reset) throw new ApiError("invalid_token");

    // The second factor is enforced here as at login; without it nothing changes (token not spent).
    let aal: 1 | 2 = 1;
    if ((await verifiedFactorCount(c, reset.userId)) > 0) {
      // Every attempt counts against the per-user MFA limit, also one without a code (the
      // contract: "both count"), so the reset path is no cheaper to probe than mfa/verify.
      await consumeMfaLimits(c, reset.userId);
      if (body.code === undefined && body.recoveryCode === undefined) {
        throw new ApiError("mfa_required", "Give `code` or `recoveryCode` with the reset.");
      }
      const result = await checkSecondFactor(
        c,
        reset.userId,
        body.code !== undefined ? { code: body.code } : { recoveryCode: body.recoveryCode },
      );
      if (!result.ok) {
        await recordSecurityEvent(c, {
          type: "auth.mfa_failed",
          userId: reset.userId,
          metadata: { flow: "reset" },
        });
        throw new ApiError("invalid_mfa_code");
      }
      aal = 2;
    }

    // Spend the token with a compare-and-set: of concurrent resets with one token, one wins.
    const spent = await db
      .update(r)
      .set({ usedAt: now })
      .where(and(eq(r.id, reset.id), isNull(r.usedAt)))
      .returning({ id: r.id });
    if (spent.length === 0) throw new ApiError("invalid_token");

    const [user] = await db.select(userColumns(c)).from(t.users).where(eq(t.users.id, reset.userId));
    if (!user) throw new ApiError("invalid_token");
    const passwordHash = await hashPassword(body.newPassword);
    const events: SecurityEventInput[] = [
      { type: "auth.password_reset_completed", userId: user.id, metadata: { aal } },
      ...(aal === 2
        ? [{ type: "auth.mfa_succeeded" as const, userId: user.id, metadata: { flow: "reset" } }]
        : []),
    ];
    return c.json(
      await issueSession(c, user, aal, events, (tx, sessionId) => [
        tx.update(t.users).set({ passwordHash, updatedAt: now }).where(eq(t.users.id, user.id)),
        // Every other session dies, and so does every other outstanding reset token.
        revokeSessions(tx, t, user.id, now, sessionId),
        tx
          .update(r)
          .set({ usedAt: now })
          .where(and(eq(r.userId, user.id), isNull(r.usedAt))),
      ]),
    );
  },
);

/**
 * Password forgot and reset (mounted at /v1/auth/password).
 * Chained route by route (`with…` above), so its type carries every route for typed clients.
 */
export const passwordRoutes = withReset;

/**
 * Identity and sessions: register, password login, MFA challenge verification, logout,
 * session list/revoke, password reset. Every path that issues a session goes through
 * auth/sign-in.ts, which enforces the second factor.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, desc, eq, gt, isNull, lt, sql } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import { countFailure, emailIdentifier, ipIdentifier, peekLimits } from "../auth/rate-limits";
import {
  AuthenticatedSchema,
  Email,
  MfaRequiredSchema,
  Password,
  RecoveryCode,
  TotpCode,
  UserSchema,
  userView,
} from "../auth/schemas";
import { revokeSessions } from "../auth/sessions";
import { completePasswordSignIn, issueSession, verifiedFactorCount } from "../auth/sign-in";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../http/problems";
import { defineRoute } from "../http/route";
import { jsonRequest, jsonResponse, problemResponses, Uuid } from "../http/schemas";
import { jsonBody, params } from "../http/validation";
import { checkPasswordPolicy, hashPassword, verifyDummyPassword, verifyPassword } from "../lib/password";
import { generateToken, sha256Hex } from "../lib/tokens";
import { checkSecondFactor, consumeMfaLimits } from "../mfa/second-factor";
import { requireAuth } from "../middleware/auth";
import { recordSecurityEvent, type SecurityEventInput, securityEventRow } from "../security-events";

export const authRoutes = new OpenAPIHono<AppEnv>();

const POLICY_MESSAGES = {
  too_short: "Passwords have at least 8 characters.",
  too_long: "Passwords have at most 128 characters.",
  common: "This password is too well known; choose another.",
} as const;

function requireStrongPassword(password: string): void {
  const verdict = checkPasswordPolicy(password);
  if (verdict !== "ok") throw new ApiError("weak_password", POLICY_MESSAGES[verdict]);
}

const userColumns = (c: AppContext) => {
  const u = c.var.db.t.users;
  return { id: u.id, email: u.email, displayName: u.displayName, createdAt: u.createdAt };
};

// ---------------------------------------------------------------------------------------------
const RegisterBody = z.object({
  email: Email,
  password: Password,
  displayName: z.string().trim().min(1).max(100).optional(),
});

defineRoute(
  authRoutes,
  createRoute({
    method: "post",
    path: "/register",
    tags: ["auth"],
    summary: "Create an account",
    request: jsonRequest(RegisterBody),
    responses: {
      201: jsonResponse("Created", z.object({ user: UserSchema })),
      ...problemResponses("invalid_request", "weak_password", "email_taken", "unsupported_media_type"),
    },
  }),
  async (c: AppContext) => {
    const body = await jsonBody(c, RegisterBody);
    requireStrongPassword(body.password);
    const { db, t } = c.var.db;
    const now = c.var.now;
    const [user] = await db
      .insert(t.users)
      .values({
        id: uuidv7(),
        email: body.email,
        passwordHash: await hashPassword(body.password),
        displayName: body.displayName ?? null,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing({ target: t.users.email })
      .returning(userColumns(c));
    if (!user) throw new ApiError("email_taken", "An account with this email exists.");
    await recordSecurityEvent(c, { type: "user.registered", userId: user.id });
    return c.json({ user: userView(user) }, 201);
  },
);

// ---------------------------------------------------------------------------------------------
const LoginBody = z.object({ email: Email, password: Password });

defineRoute(
  authRoutes,
  createRoute({
    method: "post",
    path: "/login",
    tags: ["auth"],
    summary: "Password login: a session, or an MFA challenge when the user has a verified factor",
    request: jsonRequest(LoginBody),
    responses: {
      200: jsonResponse(
        "Authenticated, or a second factor is required",
        z.union([AuthenticatedSchema, MfaRequiredSchema]),
      ),
      ...problemResponses("invalid_request", "invalid_credentials", "rate_limited", "rate_limit_unavailable"),
    },
  }),
  async (c: AppContext) => {
    const body = await jsonBody(c, LoginBody);
    const { passwordPerAccount, passwordPerIp } = c.var.config.rateLimits;
    const checks = [
      { rule: passwordPerIp, identifier: await ipIdentifier(c) },
      { rule: passwordPerAccount, identifier: await emailIdentifier(c, body.email) },
    ];
    const { db, t } = c.var.db;
    const [user] = await db
      .select({ ...userColumns(c), passwordHash: t.users.passwordHash })
      .from(t.users)
      .where(eq(t.users.email, body.email))
      .limit(1);
    // Checked before the password; only failures count, so a user who keeps logging in is never locked out.
    await peekLimits(c, checks, user?.id ?? null);
    const verdict = user
      ? await verifyPassword(body.password, user.passwordHash)
      : await verifyDummyPassword(body.password); // same cost: the timing does not tell who exists
    if (!user || !verdict.valid) {
      await countFailure(c, checks);
      await recordSecurityEvent(c, {
        type: "auth.login_failed",
        userId: user?.id ?? null,
        metadata: { reason: "invalid_credentials" },
      });
      throw new ApiError("invalid_credentials");
    }
    if (verdict.needsRehash) {
      await db
        .update(t.users)
        .set({ passwordHash: await hashPassword(body.password), updatedAt: c.var.now })
        .where(eq(t.users.id, user.id));
    }
    return c.json(await completePasswordSignIn(c, user));
  },
);

// ---------------------------------------------------------------------------------------------
const MfaVerifyBody = z
  .object({
    challengeToken: z.string().min(1).max(256),
    code: TotpCode.optional(),
    recoveryCode: RecoveryCode.optional(),
  })
  .refine((b) => (b.code === undefined) !== (b.recoveryCode === undefined), {
    message: "give exactly one of code and recoveryCode",
    path: ["code"],
  });

defineRoute(
  authRoutes,
  createRoute({
    method: "post",
    path: "/mfa/verify",
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

// ---------------------------------------------------------------------------------------------
defineRoute(
  authRoutes,
  createRoute({
    method: "post",
    path: "/logout",
    tags: ["auth"],
    summary: "Revoke the current session",
    security: [{ bearer: [] }],
    responses: { 204: { description: "Logged out" }, ...problemResponses("unauthorized") },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const { t } = c.var.db;
    const { userId, sessionId } = c.var.auth;
    const event = await securityEventRow(c, { type: "auth.logout", userId, metadata: { sessionId } });
    await c.var.db.atomic((tx) => [
      tx.update(t.userSessions).set({ revokedAt: c.var.now }).where(eq(t.userSessions.id, sessionId)),
      tx.insert(t.securityEvents).values(event),
    ]);
    return c.body(null, 204);
  },
);

const SessionListSchema = z
  .object({
    sessions: z.array(
      z.object({
        id: z.string(),
        aal: z.number().int(),
        createdAt: z.string(),
        lastSeenAt: z.string(),
        expiresAt: z.string(),
        current: z.boolean(),
      }),
    ),
  })
  .openapi("SessionList");

defineRoute(
  authRoutes,
  createRoute({
    method: "get",
    path: "/sessions",
    tags: ["auth"],
    summary: "The caller's live sessions",
    security: [{ bearer: [] }],
    responses: { 200: jsonResponse("Sessions", SessionListSchema), ...problemResponses("unauthorized") },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const { db, t } = c.var.db;
    const s = t.userSessions;
    const rows = await db
      .select({
        id: s.id,
        aal: s.aal,
        createdAt: s.createdAt,
        lastSeenAt: s.lastSeenAt,
        expiresAt: s.expiresAt,
      })
      .from(s)
      .where(and(eq(s.userId, c.var.auth.userId), isNull(s.revokedAt), gt(s.expiresAt, c.var.now)))
      .orderBy(desc(s.id));
    return c.json({
      sessions: rows.map((r) => ({
        id: r.id,
        aal: r.aal,
        createdAt: r.createdAt.toISOString(),
        lastSeenAt: r.lastSeenAt.toISOString(),
        expiresAt: r.expiresAt.toISOString(),
        current: r.id === c.var.auth.sessionId,
      })),
    });
  },
);

const SessionParams = z.object({ id: Uuid });

defineRoute(
  authRoutes,
  createRoute({
    method: "delete",
    path: "/sessions/{id}",
    tags: ["auth"],
    summary: "Revoke one of the caller's sessions",
    security: [{ bearer: [] }],
    request: { params: SessionParams },
    responses: {
      204: { description: "Revoked" },
      ...problemResponses("invalid_request", "unauthorized", "not_found"),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const { id } = params(c, SessionParams);
    const { db, t } = c.var.db;
    const s = t.userSessions;
    const { userId } = c.var.auth;
    const revoked = await db
      .update(s)
      .set({ revokedAt: c.var.now })
      .where(and(eq(s.id, id), eq(s.userId, userId), isNull(s.revokedAt), gt(s.expiresAt, c.var.now)))
      .returning({ id: s.id });
    if (revoked.length === 0) throw new ApiError("not_found", "No such session.");
    await recordSecurityEvent(c, { type: "session.revoked", userId, metadata: { sessionId: id } });
    return c.body(null, 204);
  },
);

// ---------------------------------------------------------------------------------------------
const ForgotBody = z.object({ email: Email });

defineRoute(
  authRoutes,
  createRoute({
    method: "post",
    path: "/password/forgot",
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

defineRoute(
  authRoutes,
  createRoute({
    method: "post",
    path: "/password/reset",
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
      if (body.code === undefined && body.recoveryCode === undefined) {
        throw new ApiError("mfa_required", "Give `code` or `recoveryCode` with the reset.");
      }
      await consumeMfaLimits(c, reset.userId);
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

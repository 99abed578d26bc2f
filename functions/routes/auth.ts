/**
 * Identity and sessions: register, password login, logout, session list/revoke. The MFA
 * challenge and password reset live in mfa-challenge.ts and password.ts. Every path that
 * issues a session goes through auth/sign-in.ts, which enforces the second factor.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, desc, eq, gt, isNull } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import { countFailure, emailIdentifier, ipIdentifier, peekLimits } from "../auth/rate-limits";
import {
  AuthenticatedSchema,
  Email,
  MfaRequiredSchema,
  Password,
  UserSchema,
  userView,
} from "../auth/schemas";
import { completePasswordSignIn } from "../auth/sign-in";
import { requireStrongPassword, userColumns } from "../auth/users";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../http/problems";
import { defineRoute } from "../http/route";
import { jsonRequest, jsonResponse, problemResponses, Uuid } from "../http/schemas";
import { jsonBody, params } from "../http/validation";
import { hashPassword, verifyDummyPassword, verifyPassword } from "../lib/password";
import { requireAuth } from "../middleware/auth";
import { recordSecurityEvent, securityEventRow } from "../security-events";

// ---------------------------------------------------------------------------------------------
const RegisterBody = z.object({
  email: Email,
  password: Password,
  displayName: z.string().trim().min(1).max(100).optional(),
});

const withRegister = defineRoute(
  new OpenAPIHono<AppEnv>(),
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

const withLogin = defineRoute(
  withRegister,
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
const withLogout = defineRoute(
  withLogin,
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

const withSessionList = defineRoute(
  withLogout,
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

const withSessionRevoke = defineRoute(
  withSessionList,
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

/**
 * Register, login, logout, session list and revoke (mounted at /v1/auth).
 * Chained route by route (`with…` above), so its type carries every route for typed clients.
 */
export const authRoutes = withSessionRevoke;

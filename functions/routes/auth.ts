/**
 * Identity and sessions: register, password login, logout, session list/revoke. The MFA
 * challenge and password reset live in mfa-challenge.ts and password.ts. Every path that
 * issues a session goes through auth/sign-in.ts, which enforces the second factor.
 */

import { uuidv7 } from "uuidv7";
import { prepareEmailToken, prepareMessage, prepareNotice } from "../auth/mail";
import { limitKeys, passwordChecks, reserveAttempt } from "../auth/rate-limits";
import {
  AuthenticatedSchema,
  Email,
  ListedSessionSchema,
  MfaRequiredSchema,
  Password,
  UserSchema,
} from "../auth/schemas";
import { clearedSessionCookie, signedInAnswer } from "../auth/session-cookie";
import { completePasswordSignIn } from "../auth/sign-in";
import { requireStrongPassword } from "../auth/users";
import { requireVerifiedToSignIn } from "../auth/verification";
import { ApiError } from "../http/problems";
import { json, noContent } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse, Uuid } from "../http/schemas";
import * as z from "../http/zod";
import { hashPassword, verifyDummyPassword, verifyPassword } from "../lib/password";
import { recordSecurityEvent, securityEventRow } from "../security-events";
import { insertEmailToken } from "../stores/email-tokens";
import { insertOutboxMessageForUser, insertOutboxMessageToUser } from "../stores/outbox";
import { insertSecurityEventForUser, insertSecurityEvents } from "../stores/security-events";
import { listLiveSessions, revokeOwnSession, revokeSessionById, sessionView } from "../stores/sessions";
import { findUserForSignIn, insertUser, updatePasswordHash, userView } from "../stores/users";

const register = defineRoute(
  {
    method: "post",
    path: "/register",
    tags: ["auth"],
    summary: "Create an account",
    request: jsonRequest(
      z.object({
        email: Email,
        password: Password,
        displayName: z.string().trim().min(1).max(100).optional(),
      }),
    ),
    responses: { 201: jsonResponse("Created", z.object({ user: UserSchema })) },
    errors: ["weak_password", "email_taken", "rate_limited", "rate_limit_unavailable"],
  },
  async (scope, { body }) => {
    // Every attempt counts, successful or not (a weak password or a taken email included): each
    // accepted one costs a 16 MiB scrypt, and each answer can be used to probe addresses.
    await reserveAttempt(
      scope,
      [{ rule: scope.config.rateLimits.registerPerNetwork, identifier: await limitKeys.network(scope) }],
      null,
    );
    requireStrongPassword(body.password);
    const { t } = scope.db;
    const id = uuidv7();
    const passwordHash = await hashPassword(body.password);
    // The account, its verification link and message, and its event land together; when the
    // address is taken the user insert writes nothing and so does every statement after it
    // (each is conditional on the new user row).
    const verification = await prepareEmailToken(scope, id, "verify_email", body.email);
    const message = await prepareMessage(scope, "email_verification", { token: verification.token }, id);
    const event = await securityEventRow(scope, { type: "user.registered", userId: id });
    const [inserted] = await scope.db.atomic((db) => [
      insertUser(db, t, {
        id,
        email: body.email,
        passwordHash,
        displayName: body.displayName ?? null,
        now: scope.now,
      }),
      insertEmailToken(db, t, verification.row),
      insertOutboxMessageForUser(db, t, { ...message, recipient: body.email }, id),
      ...insertSecurityEventForUser(db, t, { ...event, userId: id }),
    ]);
    const [user] = inserted;
    if (!user) throw new ApiError("email_taken", "An account with this email exists.");
    return json({ user: userView(user) }, 201);
  },
);

const login = defineRoute(
  {
    method: "post",
    path: "/login",
    tags: ["auth"],
    summary: "Password login: a session, or an MFA challenge when the user has a verified factor",
    request: jsonRequest(z.object({ email: Email, password: Password })),
    responses: {
      200: jsonResponse(
        "Authenticated, or a second factor is required",
        z.union([AuthenticatedSchema, MfaRequiredSchema]),
      ),
    },
    errors: ["invalid_credentials", "email_not_verified", "rate_limited", "rate_limit_unavailable"],
  },
  async (scope, { body }) => {
    const user = await findUserForSignIn(scope.db, body.email);
    // Counted before the password is checked; a right one gives its count back.
    const release = await reserveAttempt(scope, await passwordChecks(scope, body.email), user?.id ?? null);
    const verdict = user
      ? await verifyPassword(body.password, user.passwordHash)
      : await verifyDummyPassword(body.password); // same cost: the timing does not tell who exists
    if (!user || !verdict.valid) {
      // This failure used the account's last attempt from anywhere: its owner is told.
      if (user && release.exhausted.includes(scope.config.rateLimits.passwordPerAccount.name)) {
        const notice = await prepareNotice(scope, user.id, "password_limit_reached");
        await scope.db.atomic((db) => [insertOutboxMessageToUser(db, scope.db.t, notice, user.id)]);
      }
      await recordSecurityEvent(scope, {
        type: "auth.login_failed",
        userId: user?.id ?? null,
        metadata: { reason: "invalid_credentials" },
      });
      throw new ApiError("invalid_credentials");
    }
    await release();
    requireVerifiedToSignIn(scope, user);
    if (verdict.needsRehash) {
      await updatePasswordHash(scope.db, user.id, await hashPassword(body.password), scope.now);
    }
    return signedInAnswer(scope, await completePasswordSignIn(scope, user, user.factorTypes));
  },
);

const logout = defineRoute(
  {
    method: "post",
    path: "/logout",
    tags: ["auth"],
    summary: "Revoke the current session (and, in cookie mode, clear the session cookie)",
    security: [{ bearer: [] }],
    responses: { 204: { description: "Logged out" } },
  },
  async (scope) => {
    const { t } = scope.db;
    const { userId, sessionId } = scope.auth;
    const event = await securityEventRow(scope, { type: "auth.logout", userId, metadata: { sessionId } });
    await scope.db.atomic((db) => [
      revokeSessionById(db, t, sessionId, scope.now),
      ...insertSecurityEvents(db, t, [event]),
    ]);
    return noContent(clearedSessionCookie(scope));
  },
);

const SessionListSchema = z
  .object({
    sessions: z.array(ListedSessionSchema),
  })
  .openapi("SessionList");

const listSessions = defineRoute(
  {
    method: "get",
    path: "/sessions",
    tags: ["auth"],
    summary: "The caller's live sessions",
    security: [{ bearer: [] }],
    responses: { 200: jsonResponse("Sessions", SessionListSchema) },
  },
  async (scope) => {
    const rows = await listLiveSessions(scope.db, scope.auth.userId, scope.now);
    return json({
      sessions: rows.map((r) => sessionView(r, scope.auth.sessionId)),
    });
  },
);

const revokeSession = defineRoute(
  {
    method: "delete",
    path: "/sessions/{id}",
    tags: ["auth"],
    summary: "Revoke one of the caller's sessions",
    security: [{ bearer: [] }],
    request: { params: z.object({ id: Uuid }) },
    responses: { 204: { description: "Revoked" } },
    errors: ["not_found"],
  },
  async (scope, { params }) => {
    const { userId } = scope.auth;
    if (!(await revokeOwnSession(scope.db, userId, params.id, scope.now))) {
      throw new ApiError("not_found", "No such session.");
    }
    await recordSecurityEvent(scope, { type: "session.revoked", userId, metadata: { sessionId: params.id } });
    return noContent();
  },
);

/** Register, login, logout, session list and revoke (mounted at /v1/auth). */
export const authRoutes = routeModule(register, login, logout, listSessions, revokeSession);

/**
 * Password reset: `forgot` queues a message with a single-use token (always 202, no account
 * enumeration); `reset` enforces the user's second factor before spending the token, then
 * changes the password and revokes every other session in one batch.
 */

import { uuidv7 } from "uuidv7";
import { prepareMessage, prepareNotice } from "../auth/mail";
import { allowMessage } from "../auth/rate-limits";
import { AuthenticatedSchema, Email, Password } from "../auth/schemas";
import { signedInAnswer } from "../auth/session-cookie";
import { issueSession } from "../auth/sign-in";
import { checkRecentAuthentication } from "../auth/step-up";
import { requireStrongPassword } from "../auth/users";
import { ApiError } from "../http/problems";
import { accepted, noContent } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse } from "../http/schemas";
import * as z from "../http/zod";
import { hashPassword } from "../lib/password";
import { generateToken, sha256Hex } from "../lib/tokens";
import { verifySecondFactor, withOptionalSecondFactor } from "../mfa/second-factor";
import { resetBinding } from "../mfa/webauthn";
import { type SecurityEventInput, securityEventRow } from "../security-events";
import { consumeOpenChallenges } from "../stores/challenges";
import { insertOutboxMessageForUser, insertOutboxMessageToUser } from "../stores/outbox";
import {
  completeReset,
  findLiveResetTokenWithUser,
  insertResetToken,
  spendResetToken,
} from "../stores/reset-tokens";
import { insertSecurityEventForUser, insertSecurityEvents } from "../stores/security-events";
import { revokeOtherSessions } from "../stores/sessions";
import {
  findUserIdByEmail,
  findUserWithPasswordById,
  markEmailVerified,
  setPasswordHash,
} from "../stores/users";

const forgot = defineRoute(
  {
    method: "post",
    path: "/forgot",
    tags: ["auth"],
    summary: "Send a password reset message (always 202)",
    request: jsonRequest(z.object({ email: Email })),
    responses: { 202: { description: "Accepted" } },
  },
  async (scope, { body }) => {
    const { t } = scope.db;
    const { now, config } = scope;
    const { email } = body;
    // Known and unknown emails take the same path: the same limiter call, the same token and
    // sealing work and the same three statements, which for an unknown email (or one over its
    // message limit) target an id no user has and write nothing. The timing tells nothing.
    const found = await findUserIdByEmail(scope.db, email);
    const send = await allowMessage(scope, email);
    const userId = found && send ? found : uuidv7();
    const token = generateToken();
    const message = await prepareMessage(scope, "password_reset", { token }, userId);
    const event = await securityEventRow(scope, { type: "auth.password_reset_requested", userId });
    const tokenHash = await sha256Hex(token);
    const expiresAt = new Date(now.getTime() + config.passwordResetTtlMs);
    await scope.db.atomic((db) => [
      insertResetToken(db, t, { id: uuidv7(), userId, tokenHash, createdAt: now, expiresAt }),
      insertOutboxMessageForUser(db, t, { ...message, recipient: email }, userId),
      ...insertSecurityEventForUser(db, t, { ...event, userId }),
    ]);
    return accepted();
  },
);

const reset = defineRoute(
  {
    method: "post",
    path: "/reset",
    tags: ["auth"],
    summary: "Set a new password with a reset token (and a second factor when the user has one)",
    request: jsonRequest(
      withOptionalSecondFactor({ token: z.string().min(1).max(256), newPassword: Password }),
    ),
    responses: { 200: jsonResponse("Authenticated", AuthenticatedSchema) },
    errors: [
      "weak_password",
      "invalid_token",
      "mfa_required",
      "invalid_mfa_code",
      "rate_limited",
      "rate_limit_unavailable",
    ],
  },
  async (scope, { body }) => {
    requireStrongPassword(body.newPassword);
    const { t } = scope.db;
    const { now } = scope;
    // One statement: the token, its user and that user's verified factor count.
    const token = await findLiveResetTokenWithUser(scope.db, await sha256Hex(body.token), now);
    if (!token) throw new ApiError("invalid_token");

    // The second factor is enforced here as at login; without it nothing changes (token not
    // spent). An attempt without one (401 mfa_required) counts against the MFA limits too, so
    // the reset path is no cheaper to probe than mfa/verify.
    let aal: 1 | 2 = 1;
    if (token.verifiedFactors > 0) {
      const webauthnBinding = resetBinding(token.id);
      await verifySecondFactor(scope, { userId: token.userId, flow: "reset", webauthnBinding }, body);
      aal = 2;
    }

    // Of concurrent resets with one token, one spends it.
    if (!(await spendResetToken(scope.db, token.id, now))) throw new ApiError("invalid_token");
    const found = token.user;
    if (!found) throw new ApiError("invalid_token");
    // The token came by mail: a completed reset also proves the address.
    const user = { ...found, emailVerifiedAt: found.emailVerifiedAt ?? now };
    const passwordHash = await hashPassword(body.newPassword);
    const notice = await prepareNotice(scope, user.id, "password_reset");
    const events: SecurityEventInput[] = [
      { type: "auth.password_reset_completed", userId: user.id, metadata: { aal } },
      ...(aal === 2
        ? [{ type: "auth.mfa_succeeded" as const, userId: user.id, metadata: { flow: "reset" } }]
        : []),
    ];
    const answer = await issueSession(scope, user, aal, events, (db, sessionId) => [
      // The new password, every other outstanding reset token spent, every other session revoked.
      ...completeReset(db, t, user.id, passwordHash, now),
      markEmailVerified(db, t, user.id, now),
      revokeOtherSessions(db, t, user.id, now, sessionId),
      // A challenge got with the old password must not complete after the reset.
      consumeOpenChallenges(db, t, user.id, now),
      insertOutboxMessageToUser(db, t, notice, user.id),
    ]);
    return signedInAnswer(scope, answer);
  },
);

const change = defineRoute(
  {
    method: "post",
    path: "/change",
    tags: ["auth"],
    summary: "Change the password (the current one is checked); every other session is revoked",
    security: [{ bearer: [] }],
    request: jsonRequest(z.object({ currentPassword: Password, newPassword: Password })),
    responses: { 204: { description: "Changed" } },
    errors: ["weak_password", "invalid_credentials", "rate_limited", "rate_limit_unavailable"],
  },
  async (scope, { body }) => {
    requireStrongPassword(body.newPassword);
    const { t } = scope.db;
    const { userId, sessionId } = scope.auth;
    // The current password is always checked, under the password limits; the session's mark
    // and its event go in the change's batch.
    const account = await findUserWithPasswordById(scope.db, userId);
    const stepUp = await checkRecentAuthentication(scope, body.currentPassword, account);
    const passwordHash = await hashPassword(body.newPassword);
    const notice = await prepareNotice(scope, userId, "password_changed");
    const event = await securityEventRow(scope, { type: "auth.password_changed", userId });
    await scope.db.atomic((db) => [
      setPasswordHash(db, t, userId, passwordHash, scope.now),
      revokeOtherSessions(db, t, userId, scope.now, sessionId),
      ...insertSecurityEvents(db, t, [event]),
      insertOutboxMessageToUser(db, t, notice, userId),
      ...stepUp.statements(db),
    ]);
    return noContent();
  },
);

/** Password forgot, reset and change (mounted at /v1/auth/password). */
export const passwordRoutes = routeModule(forgot, reset, change);

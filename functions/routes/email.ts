/**
 * Email addresses: verification (a link sent at registration, resendable) and change (a link
 * to the new address, a notice to the old one). Links carry 256-bit tokens stored hashed,
 * single use, 24 hours by default.
 */
import { prepareEmailToken, prepareMessage, prepareNotice } from "../auth/mail";
import { allowMessage } from "../auth/rate-limits";
import { Email, UserSchema } from "../auth/schemas";
import { checkRecentAuthentication, STEP_UP_ERRORS, stepUpFields, withStepUp } from "../auth/step-up";
import { ApiError } from "../http/problems";
import { accepted, json } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse } from "../http/schemas";
import * as z from "../http/zod";
import { sha256Hex } from "../lib/tokens";
import { securityEventRow } from "../security-events";
import { insertEmailToken, spendEmailToken, spendEmailTokenWithUser } from "../stores/email-tokens";
import { insertOutboxMessageForUser, insertOutboxMessageToUser } from "../stores/outbox";
import { insertSecurityEvents } from "../stores/security-events";
import {
  changeEmail,
  findUserById,
  findUserForEmailChange,
  markEmailVerified,
  userView,
} from "../stores/users";

const TokenBody = z.object({ token: z.string().min(1).max(256) });

const verify = defineRoute(
  {
    method: "post",
    path: "/verify",
    tags: ["auth"],
    summary: "Verify the account's address with the token from the verification message",
    request: jsonRequest(TokenBody),
    responses: { 200: jsonResponse("Verified", z.object({ user: UserSchema })) },
    errors: ["invalid_token"],
  },
  async (scope, { body }) => {
    const spent = await spendEmailToken(scope.db, await sha256Hex(body.token), "verify_email", scope.now);
    const user = spent ? await findUserById(scope.db, spent.userId) : null;
    // A link for an address the account no longer has proves nothing about the current one.
    if (!spent || !user || user.email !== spent.email) throw new ApiError("invalid_token");
    const { t } = scope.db;
    const event = await securityEventRow(scope, { type: "auth.email_verified", userId: user.id });
    await scope.db.atomic((db) => [
      markEmailVerified(db, t, user.id, scope.now),
      ...insertSecurityEvents(db, t, [event]),
    ]);
    return json({ user: userView({ ...user, emailVerifiedAt: user.emailVerifiedAt ?? scope.now }) });
  },
);

const resend = defineRoute(
  {
    method: "post",
    path: "/verify/resend",
    tags: ["auth"],
    summary: "Send a new verification message (shares the 3-per-hour message limit with forgot)",
    security: [{ bearer: [] }],
    responses: { 202: { description: "Accepted" } },
    errors: ["already_verified", "rate_limit_unavailable"],
  },
  async (scope) => {
    const user = await findUserById(scope.db, scope.auth.userId);
    if (!user) throw new ApiError("unauthorized");
    if (user.emailVerifiedAt) throw new ApiError("already_verified");
    if (await allowMessage(scope, user.email)) {
      const { t } = scope.db;
      const verification = await prepareEmailToken(scope, user.id, "verify_email", user.email);
      const message = await prepareMessage(
        scope,
        "email_verification",
        { token: verification.token },
        user.id,
      );
      await scope.db.atomic((db) => [
        insertEmailToken(db, t, verification.row),
        insertOutboxMessageForUser(db, t, { ...message, recipient: user.email }, user.id),
      ]);
    }
    return accepted();
  },
);

const change = defineRoute(
  {
    method: "post",
    path: "/change",
    tags: ["auth"],
    summary: "Move the account to a new address: a link goes to the new address, a notice to the old",
    security: [{ bearer: [] }],
    request: jsonRequest(z.object({ newEmail: Email, ...stepUpFields })),
    responses: { 202: { description: "Accepted (also when the address is taken: no message then)" } },
    errors: [...STEP_UP_ERRORS],
  },
  async (scope, { body }) => {
    const { userId } = scope.auth;
    // The user, its password hash and whether the new address has an account: one statement.
    const user = await findUserForEmailChange(scope.db, userId, body.newEmail);
    const stepUp = await checkRecentAuthentication(scope, body.currentPassword, user);
    if (!user) throw new ApiError("unauthorized");
    return withStepUp(stepUp, async () => {
      // An address that has an account gets nothing, and the answer is the same: no enumeration.
      if (body.newEmail === user.email || user.emailTaken) return accepted();
      const { t } = scope.db;
      const link = await prepareEmailToken(scope, userId, "change_email", body.newEmail);
      const message = await prepareMessage(
        scope,
        "email_change",
        { token: link.token, newEmail: body.newEmail },
        userId,
      );
      const notice = await prepareNotice(scope, userId, "email_change_requested", {
        newEmail: body.newEmail,
      });
      await scope.db.atomic((db) => [
        insertEmailToken(db, t, link.row),
        insertOutboxMessageForUser(db, t, { ...message, recipient: body.newEmail }, userId),
        insertOutboxMessageToUser(db, t, notice, userId),
        ...stepUp.statements(db),
      ]);
      return accepted();
    });
  },
);

const confirmChange = defineRoute(
  {
    method: "post",
    path: "/change/confirm",
    tags: ["auth"],
    summary: "Confirm an address change with the token sent to the new address",
    request: jsonRequest(TokenBody),
    responses: { 200: jsonResponse("Changed", z.object({ user: UserSchema })) },
    errors: ["invalid_token", "email_taken"],
  },
  async (scope, { body }) => {
    const tokenHash = await sha256Hex(body.token);
    const spent = await spendEmailTokenWithUser(scope.db, tokenHash, "change_email", scope.now);
    if (!spent) throw new ApiError("invalid_token");
    const before = spent.user;
    if (!before) throw new ApiError("invalid_token");
    if (!(await changeEmail(scope.db, spent.userId, spent.email, scope.now))) {
      throw new ApiError("email_taken", "Another account has taken this address meanwhile.");
    }
    const { t } = scope.db;
    // The old address learns of it: whoever changed it may not be its owner.
    const notice = await prepareNotice(scope, spent.userId, "email_changed", { newEmail: spent.email });
    const event = await securityEventRow(scope, { type: "auth.email_changed", userId: spent.userId });
    await scope.db.atomic((db) => [
      insertOutboxMessageForUser(db, t, { ...notice, recipient: before.email }, spent.userId),
      ...insertSecurityEvents(db, t, [event]),
    ]);
    return json({ user: userView({ ...before, email: spent.email, emailVerifiedAt: scope.now }) });
  },
);

/** Email verification and change (mounted at /v1/auth/email). */
export const emailRoutes = routeModule(verify, resend, change, confirmChange);

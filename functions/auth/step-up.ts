/**
 * Step-up: sensitive operations (enrolling a factor, changing the password or email, deleting
 * the account, exporting its data, deleting a tenant) need a recent authentication: the
 * session's password or second factor was checked within STEP_UP_MAX_AGE_SECONDS (default
 * 5 minutes), or the request carries the right `currentPassword` (OWASP ASVS 6.2.x: re-verify
 * before sensitive changes). A password that is sent is always checked, even in a recent
 * session, under the same limits as a sign-in.
 */
import type { z } from "@hono/zod-openapi";
import type { AuthedScope } from "../context";
import { ApiError } from "../http/problems";
import { verifyPassword } from "../lib/password";
import { recordSecurityEvent, securityEventRow } from "../security-events";
import { insertSecurityEvents } from "../stores/security-events";
import { markSessionAuthenticated } from "../stores/sessions";
import { findUserWithPasswordById } from "../stores/users";
import { passwordChecks, reserveAttempt } from "./rate-limits";
import { Password } from "./schemas";

/** The optional body field of every step-up operation. */
export const CurrentPassword = Password.optional().openapi({
  description: "The account's password; needed unless the session authenticated within the last 5 minutes",
});

/** What `requireRecentAuthentication` can answer, for the spec's `errors` of every step-up route. */
export const STEP_UP_ERRORS = [
  "reauthentication_required",
  "invalid_credentials",
  "rate_limited",
  "rate_limit_unavailable",
] as const;

/** A body shape with `currentPassword`. */
export const stepUpFields = { currentPassword: CurrentPassword } satisfies z.ZodRawShape;

/**
 * Passes when the session is recently authenticated or `currentPassword` is right; 403
 * reauthentication_required otherwise, 401 invalid_credentials for a wrong password (counted
 * as a failed password), 429 when the password limits are exhausted.
 */
export async function requireRecentAuthentication(
  scope: AuthedScope,
  currentPassword: string | undefined,
  tenantId: string | null = null,
): Promise<void> {
  const { userId, sessionId, authenticatedAt } = scope.auth;
  if (currentPassword === undefined) {
    if (scope.now.getTime() - authenticatedAt.getTime() <= scope.config.stepUpMaxAgeMs) return;
    throw new ApiError("reauthentication_required", "Send currentPassword, or sign in again.");
  }
  const user = await findUserWithPasswordById(scope.db, userId);
  if (!user) throw new ApiError("unauthorized");
  const release = await reserveAttempt(scope, await passwordChecks(scope, user.email), userId, tenantId);
  const verdict = await verifyPassword(currentPassword, user.passwordHash);
  if (!verdict.valid) {
    await recordSecurityEvent(scope, {
      type: "auth.login_failed",
      userId,
      tenantId,
      metadata: { reason: "reauthentication" },
    });
    throw new ApiError("invalid_credentials");
  }
  await release();
  // The mark and its event in one round trip.
  const event = await securityEventRow(scope, {
    type: "auth.reauthenticated",
    userId,
    tenantId,
    metadata: { sessionId },
  });
  const { t } = scope.db;
  await scope.db.atomic((db) => [
    markSessionAuthenticated(db, t, sessionId, scope.now),
    ...insertSecurityEvents(db, t, [event]),
  ]);
}

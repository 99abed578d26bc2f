/**
 * Step-up: sensitive operations (enrolling a factor, changing the password or email, deleting
 * the account, exporting its data, deleting a tenant) need a recent authentication: the
 * session's password or second factor was checked within STEP_UP_MAX_AGE_SECONDS (default
 * 5 minutes), or the request carries the right `currentPassword` (OWASP ASVS 6.2.x: re-verify
 * before sensitive changes). A password that is sent is always checked, even in a recent
 * session, under the same limits as a sign-in.
 */
import type { z } from "@hono/zod-openapi";
import type { Db, Query } from "../../db/database";
import type { AuthedScope } from "../context";
import { ApiError } from "../http/problems";
import { verifyPassword } from "../lib/password";
import { recordSecurityEvent, type SecurityEventRow, securityEventRow } from "../security-events";
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

/** The account a step-up checks the password of (read by the route, often with what it needs). */
export interface StepUpAccount {
  email: string;
  passwordHash: string;
}

/**
 * A passed step-up: the statements that record a password check (the session's mark and the
 * `auth.reauthenticated` event; none when no password was sent). `statements` hands them to the
 * route's own batch, saving the round trip of a batch of their own; `settle` writes them alone
 * when the route did not (it answered early or failed), so a right password is always recorded.
 */
export interface StepUp {
  statements(db: Db): Query[];
  settle(): Promise<void>;
}

/**
 * Passes when the session is recently authenticated or `currentPassword` is right for
 * `account` (null: the account is gone, 401); 403 reauthentication_required otherwise, 401
 * invalid_credentials for a wrong password (counted as a failed password, its event written,
 * nothing else), 429 when the password limits are exhausted. Writes nothing on success: the
 * route puts `statements` into its batch, or calls `settle`.
 */
export async function checkRecentAuthentication(
  scope: AuthedScope,
  currentPassword: string | undefined,
  account: StepUpAccount | null,
  tenantId: string | null = null,
): Promise<StepUp> {
  const { userId, sessionId, authenticatedAt } = scope.auth;
  if (currentPassword === undefined) {
    if (scope.now.getTime() - authenticatedAt.getTime() <= scope.config.stepUpMaxAgeMs)
      return passed(scope, []);
    throw new ApiError("reauthentication_required", "Send currentPassword, or sign in again.");
  }
  if (!account) throw new ApiError("unauthorized");
  const release = await reserveAttempt(scope, await passwordChecks(scope, account.email), userId, tenantId);
  const verdict = await verifyPassword(currentPassword, account.passwordHash);
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
  const event = await securityEventRow(scope, {
    type: "auth.reauthenticated",
    userId,
    tenantId,
    metadata: { sessionId },
  });
  return passed(scope, [event]);
}

function passed(scope: AuthedScope, events: SecurityEventRow[]): StepUp {
  const { t } = scope.db;
  let written = events.length === 0;
  const statements = (db: Db): Query[] => {
    written = true;
    return events.length === 0
      ? []
      : [
          markSessionAuthenticated(db, t, scope.auth.sessionId, scope.now),
          ...insertSecurityEvents(db, t, events),
        ];
  };
  return {
    statements,
    async settle() {
      if (written) return;
      await scope.db.atomic((db) => statements(db) as [Query, ...Query[]]);
    },
  };
}

/**
 * `work` after a passed step-up, which it may record in its own batch (`stepUp.statements`);
 * when it did not, however it ended, the step-up is written on its own afterwards.
 */
export async function withStepUp<T>(stepUp: StepUp, work: (stepUp: StepUp) => Promise<T>): Promise<T> {
  try {
    return await work(stepUp);
  } finally {
    await stepUp.settle();
  }
}

/**
 * `checkRecentAuthentication` for a route with nothing to read or batch with it: reads the
 * user's password hash (when a password is sent) and writes the mark at once.
 */
export async function requireRecentAuthentication(
  scope: AuthedScope,
  currentPassword: string | undefined,
  tenantId: string | null = null,
): Promise<void> {
  const account =
    currentPassword === undefined ? null : await findUserWithPasswordById(scope.db, scope.auth.userId);
  const stepUp = await checkRecentAuthentication(scope, currentPassword, account, tenantId);
  await stepUp.settle();
}

/**
 * Email verification gates (EMAIL_VERIFICATION): `restricted` (default) lets an unverified
 * account sign in and use its own data but not enroll factors, create tenants, accept
 * invitations or create API keys; `required` refuses sign-in until the address is verified;
 * `off` lifts both. Unverified accounts could otherwise claim someone else's address and put
 * their own factor on it before the owner signs up.
 */
import type { AuthedScope, RequestScope } from "../context";
import { ApiError } from "../http/problems";
import { findUserById } from "../stores/users";

const NOT_VERIFIED = "Verify your email address first (see the message sent at registration).";

/** 403 email_not_verified unless the caller's address is verified (or verification is off). */
export async function requireVerifiedEmail(scope: AuthedScope): Promise<void> {
  if (scope.config.emailVerification === "off") return;
  // Read with the session when the kernel authenticated it (no statement of its own).
  if (scope.auth.emailVerified !== undefined) {
    if (!scope.auth.emailVerified) throw new ApiError("email_not_verified", NOT_VERIFIED);
    return;
  }
  const user = await findUserById(scope.db, scope.auth.userId);
  if (!user) throw new ApiError("unauthorized");
  if (!user.emailVerifiedAt) throw new ApiError("email_not_verified", NOT_VERIFIED);
}

/** With EMAIL_VERIFICATION=required, 403 email_not_verified before any session is issued to an unverified account. */
export function requireVerifiedToSignIn(scope: RequestScope, user: { emailVerifiedAt: Date | null }): void {
  if (scope.config.emailVerification === "required" && !user.emailVerifiedAt) {
    throw new ApiError("email_not_verified", NOT_VERIFIED);
  }
}

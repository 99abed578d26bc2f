/** Account helpers shared by the identity routes. */
import { ApiError } from "../http/problems";
import { checkPasswordPolicy } from "../lib/password";

const POLICY_MESSAGES = {
  too_short: "Passwords have at least 8 characters.",
  too_long: "Passwords have at most 128 characters.",
  common: "This password is too well known; choose another.",
} as const;

/** 400 weak_password unless the password meets the policy (functions/lib/password.ts). */
export function requireStrongPassword(password: string): void {
  const verdict = checkPasswordPolicy(password);
  if (verdict !== "ok") throw new ApiError("weak_password", POLICY_MESSAGES[verdict]);
}

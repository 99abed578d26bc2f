/** Schemas shared by the identity routes (request fields and answer shapes). */
import * as z from "../http/zod";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "../lib/password";

/** Trimmed, lowercased, at most 254 characters (RFC 5321 path limit), then a syntax check. */
export const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: "must be an email address" }))
  // The pipe hides the email check from the generator: stated here for the document.
  .openapi({ format: "email", description: "At most 254 characters; trimmed and lowercased" });

/** Any string: length and the common-password list are checked after parsing (weak_password). */
export const Password = z
  .string()
  .max(4096)
  .openapi({
    description: `At most 4096 characters. A new password needs ${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters (Unicode code points) and must not be a common password (else 400 weak_password)`,
  });

export const UserSchema = z
  .object({
    id: z.string(),
    email: z.string().openapi({ format: "email" }),
    emailVerified: z.boolean(),
    displayName: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("User");

export const SessionSchema = z
  .object({
    token: z.string().optional().openapi({
      description:
        "The bearer token, shown once. Absent when the service runs with SESSION_COOKIE=on: the token is then in the HttpOnly __Host-session cookie the same answer sets.",
    }),
    id: z.string(),
    aal: z.number().int(),
    expiresAt: z.string(),
  })
  .openapi("Session");

/** A live session as the session list (and the account export) shows it: never its token. */
export const ListedSessionSchema = z.object({
  id: z.string(),
  aal: z.number().int(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  expiresAt: z.string(),
  authenticatedAt: z.string(),
  current: z.boolean(),
});

export const AuthenticatedSchema = z
  .object({ status: z.literal("authenticated"), session: SessionSchema, user: UserSchema })
  .openapi("Authenticated");

export const MfaRequiredSchema = z
  .object({
    status: z.literal("mfa_required"),
    challenge: z.object({
      token: z.string(),
      expiresAt: z.string(),
      methods: z.array(z.enum(["totp", "webauthn", "recovery_code"])),
    }),
  })
  .openapi("MfaRequired");

/** A 6-digit TOTP code (RFC 6238 with 6 digits). */
export const TotpCode = z.string().regex(/^\d{6}$/, { message: "must be 6 digits" });
/** Recovery codes are typed loosely (case, spaces, dashes ignored); the length bound keeps input small. */
export const RecoveryCode = z.string().min(1).max(64);

/**
 * The rule for bodies that carry a second factor: exactly one of `code` and `recoveryCode`.
 * Used with `.refine(...exactlyOneSecondFactor)` so every such body words it the same way.
 */
export const exactlyOneSecondFactor: [
  (b: { code?: string | undefined; recoveryCode?: string | undefined }) => boolean,
  { message: string; path: string[] },
] = [
  (b) => (b.code === undefined) !== (b.recoveryCode === undefined),
  { message: "give exactly one of code and recoveryCode", path: ["code"] },
];

/**
 * The closed list of error codes the API answers with, and their HTTP statuses (RFC 9457
 * problem documents). A code is stable and machine readable; a new failure mode gets a new
 * entry here, never an ad-hoc status in a route.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";

export const PROBLEMS = {
  invalid_request: { status: 400, title: "Invalid request" },
  weak_password: { status: 400, title: "Password does not meet the policy" },
  invalid_token: { status: 400, title: "Invalid or expired token" },
  unauthorized: { status: 401, title: "Authentication required" },
  invalid_credentials: { status: 401, title: "Invalid email or password" },
  invalid_mfa_code: { status: 401, title: "Invalid MFA code" },
  invalid_challenge: { status: 401, title: "Invalid or expired MFA challenge" },
  mfa_required: { status: 401, title: "A second factor is required" },
  forbidden: { status: 403, title: "Forbidden" },
  aal2_required: { status: 403, title: "A session verified with a second factor is required" },
  tenant_mfa_required: { status: 403, title: "This tenant requires a session verified with a second factor" },
  reauthentication_required: { status: 403, title: "A recent authentication is required" },
  email_not_verified: { status: 403, title: "The email address is not verified" },
  insufficient_scope: { status: 403, title: "The API key lacks the scope this route needs" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  email_taken: { status: 409, title: "Email already registered" },
  already_verified: { status: 409, title: "The email address is already verified" },
  already_member: { status: 409, title: "Already a member" },
  last_owner: { status: 409, title: "The last owner cannot be removed" },
  idempotency_key_reused: { status: 409, title: "Idempotency key reused with a different request" },
  payload_too_large: { status: 413, title: "Payload too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  rate_limited: { status: 429, title: "Too many requests" },
  internal_error: { status: 500, title: "Internal error" },
  service_unavailable: { status: 503, title: "Service unavailable" },
  rate_limit_unavailable: { status: 503, title: "Rate limiting unavailable" },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

export interface FieldError {
  /** Dotted path relative to the body or query root ("items.0.channel"). */
  path: string;
  message: string;
}

/** An expected failure that becomes a problem document. Only broken invariants throw anything else. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly code: ProblemCode,
    readonly detail?: string,
    readonly extra: {
      errors?: FieldError[];
      headers?: Record<string, string>;
      members?: Record<string, unknown>;
    } = {},
  ) {
    super(detail ?? PROBLEMS[code].title);
  }
}

/** Builds the problem+json response for `code`. `detail` must never carry a secret or internals. */
export function problemResponse(
  code: ProblemCode,
  requestId: string,
  opts: {
    detail?: string;
    errors?: FieldError[];
    headers?: Record<string, string>;
    members?: Record<string, unknown>;
  } = {},
): Response {
  const { status, title } = PROBLEMS[code];
  const body = {
    type: `urn:problem-type:${code}`,
    title,
    status,
    code,
    ...(opts.detail ? { detail: opts.detail } : {}),
    requestId,
    ...(opts.errors ? { errors: opts.errors } : {}),
    ...opts.members,
  };
  const headers = new Headers(opts.headers);
  headers.set("Content-Type", "application/problem+json");
  headers.set("X-Request-Id", requestId);
  return new Response(JSON.stringify(body), { status, headers });
}

/**
 * Session authentication for routes whose spec declares `security: [{ bearer: [] }]`; the
 * route kernel calls it before anything reads the request (the body included).
 */
import type { AuthState, RequestScope } from "../context";
import { ApiError } from "../http/problems";
import { findLiveSession } from "../stores/sessions";
import { requireTrustedOrigin } from "./session-cookie";

const BEARER = /^Bearer ([^\s]+)$/i;

/** What a request presents to authenticate with (read by the kernel, http/credentials.ts). */
export interface Credentials {
  authorization: string | undefined;
  /** The `__Host-session` cookie; undefined unless SESSION_COOKIE=on. */
  sessionCookie: string | undefined;
  method: string;
  origin: string | undefined;
  /** The origin of the request URL: the service's own. */
  ownOrigin: string;
}

/**
 * The live session named by `Authorization: Bearer <token>` or, without that header, by the
 * session cookie (cookie mode); 401 when missing, malformed, unknown, expired or revoked. A
 * cookie on an unsafe method from an untrusted Origin is 403 csrf_rejected, before any lookup.
 */
export async function authenticateSession(scope: RequestScope, credentials: Credentials): Promise<AuthState> {
  let token: string | undefined;
  if (credentials.authorization !== undefined) {
    // A present header decides alone: a bad bearer token never falls back to the cookie.
    token = BEARER.exec(credentials.authorization)?.[1];
  } else if (credentials.sessionCookie) {
    requireTrustedOrigin(scope, credentials);
    token = credentials.sessionCookie;
  }
  const auth = token ? await findLiveSession(scope.db, scope.config.session, token, scope.now) : null;
  if (!auth) throw new ApiError("unauthorized", undefined, { headers: { "WWW-Authenticate": "Bearer" } });
  return auth;
}

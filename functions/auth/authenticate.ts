/**
 * Session authentication for routes whose spec declares `security: [{ bearer: [] }]`; the
 * route kernel calls it before anything reads the request (the body included).
 */
import type { AuthState, RequestScope } from "../context";
import { ApiError } from "../http/problems";
import { findLiveSession } from "../stores/sessions";

const BEARER = /^Bearer ([^\s]+)$/i;

/** The live session named by `Authorization: Bearer <token>`; 401 when missing, malformed, unknown, expired or revoked. */
export async function authenticateSession(
  scope: RequestScope,
  authorization: string | undefined,
): Promise<AuthState> {
  const token = BEARER.exec(authorization ?? "")?.[1];
  const auth = token ? await findLiveSession(scope.db, scope.config.session, token, scope.now) : null;
  if (!auth) throw new ApiError("unauthorized", undefined, { headers: { "WWW-Authenticate": "Bearer" } });
  return auth;
}

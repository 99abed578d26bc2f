/**
 * Session authentication for routes whose spec declares `security: [{ bearer: [] }]`; the
 * route kernel calls it before anything reads the request (the body included).
 */
import type { AuthState, PresentedSession, RequestScope } from "../context";
import { ApiError } from "../http/problems";
import { sha256Hex } from "../lib/tokens";
import {
  findLiveSession,
  isTokenShaped,
  type SessionSighting,
  touchDue,
  touchSession,
} from "../stores/sessions";
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

const unauthorized = () =>
  new ApiError("unauthorized", undefined, { headers: { "WWW-Authenticate": "Bearer" } });

/**
 * The session token the request presents: `Authorization: Bearer <token>` or, without that
 * header, the session cookie (cookie mode); undefined when none. A cookie on an unsafe method
 * from an untrusted Origin is 403 csrf_rejected, before any lookup.
 */
function presentedToken(scope: RequestScope, credentials: Credentials): string | undefined {
  if (credentials.authorization !== undefined) {
    // A present header decides alone: a bad bearer token never falls back to the cookie.
    return BEARER.exec(credentials.authorization)?.[1];
  }
  if (credentials.sessionCookie) {
    requireTrustedOrigin(scope, credentials);
    return credentials.sessionCookie;
  }
  return undefined;
}

/**
 * The live session named by the presented token; 401 when missing, malformed, unknown, expired
 * or revoked. One statement (two when the idle expiry is due a push).
 */
export async function authenticateSession(scope: RequestScope, credentials: Credentials): Promise<AuthState> {
  const token = presentedToken(scope, credentials);
  const auth = token ? await findLiveSession(scope.db, scope.config.session, token, scope.now) : null;
  if (!auth) throw unauthorized();
  return auth;
}

/**
 * For a route whose session check is folded into its own statement (`sessionCheck: "folded"`,
 * http/route.ts): the presented token, checked for shape and hashed, without a lookup (401 at
 * once when there is none or it cannot be one of ours). The handler's statement looks the
 * session up and reports what it found through `confirm`; `finish` (called by the kernel)
 * refuses a response from a handler that never did.
 */
export async function presentSession(
  scope: RequestScope,
  credentials: Credentials,
): Promise<PresentedSession & { finish(): void }> {
  const token = presentedToken(scope, credentials);
  if (!token || !isTokenShaped(token)) throw unauthorized();
  const tokenHash = await sha256Hex(token);
  let confirmed = false;
  return {
    tokenHash,
    confirm(found: (SessionSighting & { expiresAt?: Date }) | null) {
      if (!found) throw unauthorized();
      confirmed = true;
      // The idle expiry is pushed after the response: the answer never waits for that write.
      const expiresAt = touchDue(found, scope.config.session, scope.now);
      if (expiresAt) scope.afterResponse(() => touchSession(scope.db, found.id, scope.now, expiresAt));
      return expiresAt ?? found.expiresAt ?? null;
    },
    async authenticate() {
      const auth = await findLiveSession(scope.db, scope.config.session, token, scope.now);
      if (!auth) throw unauthorized();
      confirmed = true;
      return auth;
    },
    finish() {
      if (!confirmed) throw new Error("a folded-session route answered without confirming its session");
    },
  };
}

/**
 * Sessions for browser clients (SESSION_COOKIE=on): every answer that issues a session goes
 * through `signedInAnswer`, which puts the token in the `__Host-session` cookie (HttpOnly, so
 * page scripts never see it) and leaves it out of the body; logout clears the cookie. Because a
 * browser attaches the cookie to requests other sites make, a cookie-authenticated request with
 * an unsafe method must come from an origin we trust (`requireTrustedOrigin`, called by
 * auth/authenticate.ts); bearer requests are not Origin-checked (no browser adds them by itself).
 */
import type { RequestScope } from "../context";
import { ApiError } from "../http/problems";
import { json } from "../http/reply";
import type { IssuedSession } from "./sessions";

/** `__Host-`: the browser keeps it only if Secure, Path=/ and without Domain (no subdomain can set it). */
export const SESSION_COOKIE = "__Host-session";

/** Browsers cap cookie lifetimes at 400 days (RFC 6265bis); a longer session just needs a new sign-in. */
const MAX_COOKIE_AGE_SECONDS = 400 * 24 * 3600;

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function cookie(value: string, maxAgeSeconds: number, now: Date): string {
  const expires = new Date(now.getTime() + maxAgeSeconds * 1000).toUTCString();
  return `${SESSION_COOKIE}=${value}; Max-Age=${maxAgeSeconds}; Expires=${expires}; Path=/; HttpOnly; Secure; SameSite=Lax`;
}

/**
 * The answer of every route that may issue a session (login, MFA verify, password reset,
 * passkey sign-in): as is in bearer mode; in cookie mode the token moves from the body into the
 * cookie. The cookie lives until the session's absolute expiry (sign-in time plus
 * SESSION_ABSOLUTE_TTL_SECONDS, as auth/sessions.ts sets it): the idle expiry moves forward with
 * use, so a cookie bound to it would drop a session that is still alive; a session that idled
 * out earlier leaves a cookie the server answers 401.
 */
export function signedInAnswer<A extends { status: string; session?: IssuedSession }>(
  scope: RequestScope,
  answer: A,
): Response {
  if (!scope.config.browser.sessionCookie || !answer.session) return json(answer);
  const { token, ...session } = answer.session;
  const maxAge = Math.min(Math.floor(scope.config.session.absoluteTtlMs / 1000), MAX_COOKIE_AGE_SECONDS);
  return json({ ...answer, session }, 200, { "Set-Cookie": cookie(token, maxAge, scope.now) });
}

/** Headers that end the browser's session cookie (logout); none in bearer mode. */
export function clearedSessionCookie(scope: RequestScope): Record<string, string> {
  return scope.config.browser.sessionCookie ? { "Set-Cookie": cookie("", 0, new Date(0)) } : {};
}

/**
 * CSRF defence for cookie-authenticated requests (OWASP CSRF Cheat Sheet, "verifying origin with
 * standard headers"): an unsafe method needs an `Origin` that is the service's own (the origin
 * of the request URL, as the platform reports it) or one listed in CORS_ORIGINS. A missing or
 * opaque (`null`) Origin is refused too: every current browser sends Origin on unsafe methods.
 */
export function requireTrustedOrigin(
  scope: RequestScope,
  request: { method: string; origin: string | undefined; ownOrigin: string },
): void {
  if (SAFE_METHODS.has(request.method.toUpperCase())) return;
  const { origin } = request;
  const trusted =
    origin !== undefined &&
    (origin === request.ownOrigin || scope.config.browser.corsOrigins.includes(origin));
  if (!trusted) throw new ApiError("csrf_rejected");
}

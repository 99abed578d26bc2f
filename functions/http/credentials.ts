/** Reads what a request presents to authenticate with, for the route kernel (auth/authenticate.ts decides). */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { Credentials } from "../auth/authenticate";
import type { AppEnv } from "../context";

export function credentialsOf(c: Context<AppEnv>): Credentials {
  return {
    authorization: c.req.header("authorization"),
    // The cookie is not even read unless cookie mode is on.
    sessionCookie: c.var.scope.config.browser.sessionCookie ? getCookie(c, "session", "host") : undefined,
    method: c.req.method,
    origin: c.req.header("origin"),
    ownOrigin: new URL(c.req.url).origin,
  };
}

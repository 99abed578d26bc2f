import type { MiddlewareHandler } from "hono";
import { validateSessionToken } from "../auth/sessions";
import type { AppEnv } from "../context";
import { ApiError } from "../http/problems";

const BEARER = /^Bearer ([^\s]+)$/i;

/**
 * Authenticates the request from `Authorization: Bearer <token>` before anything else reads
 * the request (the body included). Missing, malformed, unknown, expired or revoked: 401.
 */
export function requireAuth(): MiddlewareHandler<AppEnv> {
  return async function requireAuth(c, next) {
    const match = BEARER.exec(c.req.header("authorization") ?? "");
    const auth = match?.[1] ? await validateSessionToken(c.var.db, c.var.config, match[1], c.var.now) : null;
    if (!auth) throw new ApiError("unauthorized", undefined, { headers: { "WWW-Authenticate": "Bearer" } });
    c.set("auth", auth);
    await next();
  };
}

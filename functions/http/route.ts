import type { OpenAPIHono, RouteConfig } from "@hono/zod-openapi";
import type { Handler, MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";

/**
 * Registers a route for the OpenAPI document and mounts its handlers. Request parsing is done
 * by the handler itself (http/validation.ts) with the very schemas named in `route`, so the
 * document and the validation cannot drift, while the order "authenticate, then read the body"
 * stays under our control (zod-openapi's built-in validators would run before authentication
 * and skip bodies whose content type is not exactly application/json).
 */
export function defineRoute(
  app: OpenAPIHono<AppEnv>,
  route: RouteConfig,
  ...handlers: [...MiddlewareHandler<AppEnv>[], Handler<AppEnv>]
): void {
  app.openAPIRegistry.registerPath(route);
  const path = route.path.replace(/\{(\w+)\}/g, ":$1");
  app.on(route.method.toUpperCase(), path, ...(handlers as [Handler<AppEnv>]));
}

import type { OpenAPIHono, RouteConfig, RouteConfigToTypedResponse, RouteHandler } from "@hono/zod-openapi";
import type { Context, Handler, MiddlewareHandler, Schema, ToSchema } from "hono";
import type { MergePath } from "hono/types";
import type { AppEnv } from "../context";

/** `/tenants/{tenantId}` → `/tenants/:tenantId`, the path Hono routes on. */
type HonoPath<P extends string> = P extends `${infer Head}{${infer Name}}${infer Tail}`
  ? `${Head}:${Name}${HonoPath<Tail>}`
  : P;

/**
 * The input of route `R` (params, query, headers, JSON body) computed from its request schemas,
 * exactly as `OpenAPIHono.openapi()` computes it (zod-openapi exports the handler type, not the
 * input type, so it is read off the handler's context).
 */
type RouteInput<R extends RouteConfig> =
  Parameters<RouteHandler<R, AppEnv>>[0] extends Context<AppEnv, string, infer I> ? I : never;

/**
 * What registering `R` adds to an app's type: method, path, input from the request schemas and
 * one typed response per declared status, from the response schemas. The same entry
 * `OpenAPIHono.openapi()` would add, so `hc` (hono/client) sees the OpenAPI document's contract.
 */
export type RouteSchema<R extends RouteConfig> = ToSchema<
  R["method"],
  MergePath<"/", HonoPath<R["path"]>>,
  RouteInput<R>,
  RouteConfigToTypedResponse<R>
>;

/**
 * Registers a route for the OpenAPI document and mounts its handlers. Request parsing is done
 * by the handler itself (http/validation.ts) with the very schemas named in `route`, so the
 * document and the validation cannot drift, while the order "authenticate, then read the body"
 * stays under our control (zod-openapi's built-in validators would run before authentication
 * and skip bodies whose content type is not exactly application/json).
 *
 * Returns `app` itself, typed with the route added (`RouteSchema`): chain the calls of a module
 * (`const b = defineRoute(a, …)`) and export the last one, and the module's value carries every
 * route's types to `createApp` and to typed clients. The response types are the declared
 * response schemas, the contract the OpenAPI document publishes; the handlers' return values are
 * not checked against them at compile time (the route tests check them at run time).
 */
export function defineRoute<S extends Schema, R extends RouteConfig>(
  app: OpenAPIHono<AppEnv, S>,
  route: R,
  ...handlers: [...MiddlewareHandler<AppEnv>[], Handler<AppEnv>]
): OpenAPIHono<AppEnv, S & RouteSchema<R>> {
  app.openAPIRegistry.registerPath(route);
  const path = route.path.replace(/\{(\w+)\}/g, ":$1");
  app.on(route.method.toUpperCase(), path, ...(handlers as [Handler<AppEnv>]));
  // Registration mutated `app`; only its type grows.
  return app as unknown as OpenAPIHono<AppEnv, S & RouteSchema<R>>;
}

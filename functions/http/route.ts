/**
 * The route kernel. A route is declared once, as its OpenAPI spec plus a handler:
 *
 *   const login = defineRoute({ method: "post", path: "/login", request: jsonRequest(Body),
 *     responses: {...}, errors: ["invalid_credentials"] }, async (scope, { body }) => …);
 *   export const authRoutes = routeModule(register, login, …);
 *
 * From the spec the kernel derives (1) authentication when the spec declares `security`,
 * done before anything reads the request (401 before the body): a session for
 * `[{ bearer: [] }]`, a tenant API key holding the named scopes for `[{ apiKey: ["usage:write"] }]`
 * (auth/api-key.ts; 403 insufficient_scope without them); (2) parsing of path, query,
 * headers and body with the very schemas in the spec, so the document and the validation
 * cannot drift; (3) the shared error responses of the OpenAPI document (400, 401, 403
 * csrf_rejected on authenticated unsafe methods, 413, 415)
 * next to the route's own `errors`. The handler gets the request scope and typed input, and
 * returns a Response (http/reply.ts).
 */
import {
  OpenAPIHono,
  type RouteConfig,
  type RouteConfigToTypedResponse,
  type RouteHandler,
} from "@hono/zod-openapi";
import type { Context, Schema, ToSchema } from "hono";
import type { MergePath } from "hono/types";
import type { z } from "zod";
import { authenticateApiKey } from "../auth/api-key";
import { authenticateSession, presentSession } from "../auth/authenticate";
import type { AppEnv, AuthedScope, KeyScope, PresentedScope, RequestScope } from "../context";
import { credentialsOf } from "./credentials";
import type { ProblemCode } from "./problems";
import { type ProblemResponses, problemResponses } from "./schemas";
import { rejectUnstorableStrings } from "./strings";
import { jsonBody, validate } from "./validation";

/**
 * An OpenAPI route plus the problem codes its handler can answer besides the derived ones,
 * `dependencies: "none"` for the rare route that touches no database or store (no 503), and
 * `sessionCheck: "folded"` for a session route that looks its session up inside its own
 * statement (one round trip, not two): its handler gets `scope.session` (the presented token's
 * hash, not yet looked up) instead of `scope.auth`, and must `confirm` what its statement found
 * (null: 401). The kernel still answers 401 before the body for a missing or malformed token,
 * and refuses (500) a handler that answers without confirming. Its statements must write
 * nothing unless the session is live (`stores/sessions.ts` sessionOfToken inside the write).
 */
export type RouteSpec = RouteConfig & {
  errors?: readonly ProblemCode[];
  dependencies?: "none";
  sessionCheck?: "folded";
};

type BodySchemaOf<R> = R extends {
  request: { body: { content: { "application/json": { schema: infer S } } } };
}
  ? S
  : undefined;
type ParamsSchemaOf<R> = R extends { request: { params: infer S } } ? S : undefined;
type QuerySchemaOf<R> = R extends { request: { query: infer S } } ? S : undefined;
type HeadersSchemaOf<R> = R extends { request: { headers: infer S } } ? S : undefined;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** The handler's input: each part parsed by its schema in the spec (undefined when the spec has none). */
export interface RouteInput<R> {
  params: Out<ParamsSchemaOf<R>>;
  query: Out<QuerySchemaOf<R>>;
  headers: Out<HeadersSchemaOf<R>>;
  body: Out<BodySchemaOf<R>>;
}

/** Methods a session cookie may use from any origin (no state change): the rest are CSRF-checked. */
type SafeMethod = "get" | "head" | "options";
const SAFE_METHODS: readonly string[] = ["get", "head", "options"];

type Secured<R> = R extends { security: readonly [unknown, ...unknown[]] } ? true : false;
type HasBearer<S> = S extends { bearer: unknown } ? true : never;
/** Routes a session authenticates (the `bearer` scheme), so the session cookie can too. */
type SessionSecured<R> = R extends { security: readonly (infer S)[] }
  ? [HasBearer<S>] extends [never]
    ? false
    : true
  : false;
/** Service routes declare `security: [{ apiKey: ["<scope>"] }]`: a tenant API key holding that scope. */
type KeyAuthed<R> = R extends { security: readonly [{ apiKey: readonly string[] }, ...unknown[]] }
  ? true
  : false;
/** Routes that declare security get a scope with the authenticated session (or, for `apiKey`, the key). */
export type ScopeOf<R> =
  Secured<R> extends true
    ? KeyAuthed<R> extends true
      ? KeyScope
      : R extends { sessionCheck: "folded" }
        ? PresentedScope
        : AuthedScope
    : RequestScope;

/** The problem codes the kernel adds to a route's document, from the shape of its spec. */
type DerivedCodes<R> =
  | (Secured<R> extends true ? "unauthorized" : never)
  | (KeyAuthed<R> extends true ? "insufficient_scope" : never)
  | (SessionSecured<R> extends true ? (R extends { method: SafeMethod } ? never : "csrf_rejected") : never)
  | (R extends {
      request: { params: unknown } | { query: unknown } | { body: unknown } | { headers: unknown };
    }
      ? "invalid_request"
      : never)
  | (R extends { request: { body: unknown } } ? "payload_too_large" | "unsupported_media_type" : never)
  | (R extends { dependencies: "none" } ? never : "service_unavailable");
type OwnCodes<R> = R extends { errors: readonly (infer C extends ProblemCode)[] } ? C : never;

/** The spec as registered: its own responses plus one problem entry per derived or declared status. */
export type FullRoute<R extends RouteSpec> = Omit<
  R,
  "responses" | "errors" | "dependencies" | "sessionCheck"
> & {
  responses: R["responses"] & Omit<ProblemResponses<DerivedCodes<R> | OwnCodes<R>>, keyof R["responses"]>;
};

/** `/tenants/{tenantId}` → `/tenants/:tenantId`, the path Hono routes on. */
type HonoPath<P extends string> = P extends `${infer Head}{${infer Name}}${infer Tail}`
  ? `${Head}:${Name}${HonoPath<Tail>}`
  : P;

type HonoInput<R extends RouteConfig> =
  Parameters<RouteHandler<R, AppEnv>>[0] extends Context<AppEnv, string, infer I> ? I : never;

/**
 * What registering `R` adds to an app's type: method, path, input from the request schemas and
 * one typed response per status, as `OpenAPIHono.openapi()` would add it, so `hc` sees the
 * OpenAPI document's contract.
 */
export type RouteSchema<R extends RouteConfig> = ToSchema<
  R["method"],
  MergePath<"/", HonoPath<R["path"]>>,
  HonoInput<R>,
  RouteConfigToTypedResponse<R>
>;

export type Handler<R> = (scope: ScopeOf<R>, input: RouteInput<R>) => Response | Promise<Response>;

export interface RouteDef<R extends RouteSpec = RouteSpec> {
  spec: FullRoute<R>;
  handler: (c: Context<AppEnv>) => Promise<Response>;
}

/** The scopes a service route's key must hold (`security: [{ apiKey: [...] }]`), or null for other routes. */
function keyScopes(spec: RouteSpec): readonly string[] | null {
  return spec.security?.[0]?.apiKey ?? null;
}

const sessionSecured = (spec: RouteSpec) => Boolean(spec.security?.some((s) => "bearer" in s));

function derivedCodes(spec: RouteSpec): ProblemCode[] {
  const codes: ProblemCode[] = [];
  const request = spec.request ?? {};
  if (spec.security?.length) codes.push("unauthorized");
  if (keyScopes(spec)) codes.push("insufficient_scope");
  // A session cookie (SESSION_COOKIE=on) on an unsafe method from an untrusted Origin.
  if (sessionSecured(spec) && !SAFE_METHODS.includes(spec.method)) codes.push("csrf_rejected");
  if (request.params || request.query || request.headers || request.body) codes.push("invalid_request");
  if (request.body) codes.push("payload_too_large", "unsupported_media_type");
  // A database or store that is down is answered 503 (http/errors.ts), on any route that uses one.
  if (spec.dependencies !== "none") codes.push("service_unavailable");
  return codes;
}

/** `[{ bearer: [] }]` → `[{ bearer: [] }, { sessionCookie: [] }]`: alternatives in OpenAPI. */
function withSessionCookie(spec: RouteSpec): RouteSpec["security"] {
  return sessionSecured(spec) ? [...(spec.security ?? []), { sessionCookie: [] }] : spec.security;
}

/** Declares a route: its spec (the single statement of auth, input and errors) and its handler. */
export function defineRoute<const R extends RouteSpec>(spec: R, handler: Handler<R>): RouteDef<R> {
  const { errors = [], dependencies: _, sessionCheck, ...route } = spec;
  const codes = [...new Set([...derivedCodes(spec), ...errors])];
  const full = {
    ...route,
    // The session cookie authenticates wherever a bearer session does (either one suffices).
    ...(route.security ? { security: withSessionCookie(spec) } : {}),
    // The route's own entry for a status wins over the derived one (/readyz's richer 503).
    responses: { ...problemResponses(...codes), ...spec.responses },
  } as unknown as FullRoute<R>;
  const request = spec.request ?? {};
  const media = request.body?.content?.["application/json"];
  const body = (media && "schema" in media ? media.schema : undefined) as z.ZodType | undefined;
  const secured = Boolean(spec.security?.length);
  const requiredScopes = keyScopes(spec);

  return {
    spec: full,
    async handler(c) {
      const base = c.var.scope;
      // Authentication first: a request without a valid session (or key) is 401 before its body is read.
      // A folded check looks the session up in the handler's own statement (see RouteSpec).
      const presented =
        secured && sessionCheck === "folded" ? await presentSession(base, credentialsOf(c)) : null;
      const scope = requiredScopes
        ? { ...base, key: await authenticateApiKey(base, c.req.header("authorization"), requiredScopes) }
        : presented
          ? { ...base, session: presented }
          : secured
            ? { ...base, auth: await authenticateSession(base, credentialsOf(c)) }
            : base;
      // Path and query strings are checked whole, declared or not (bodies in jsonBody).
      rejectUnstorableStrings(c.req.param(), "path");
      rejectUnstorableStrings(c.req.queries(), "query");
      const input = {
        params: request.params ? validate(request.params as z.ZodType, c.req.param(), "path") : undefined,
        query: request.query ? validate(request.query as z.ZodType, c.req.query(), "query") : undefined,
        headers: request.headers
          ? validate(request.headers as z.ZodType, c.req.header(), "headers")
          : undefined,
        body: body ? await jsonBody(c, body, { optional: request.body?.required === false }) : undefined,
      };
      const response = await handler(scope as ScopeOf<R>, input as RouteInput<R>);
      presented?.finish();
      return response;
    },
  };
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;
type SpecOf<D> = D extends RouteDef<infer R> ? FullRoute<R> : never;
// biome-ignore lint/suspicious/noExplicitAny: any spec.
type ModuleSchema<Ds extends readonly RouteDef<any>[]> = UnionToIntersection<
  { [K in keyof Ds]: RouteSchema<SpecOf<Ds[K]>> }[number]
>;

/**
 * One route module: the routes it lists, registered in the OpenAPI document and mounted, in
 * order. Its type carries every route (for `createApp` and typed clients).
 */
// biome-ignore lint/suspicious/noExplicitAny: a module lists routes of many specs.
export function routeModule<const Ds extends readonly RouteDef<any>[]>(...routes: Ds) {
  const app = new OpenAPIHono<AppEnv>();
  for (const route of routes) {
    app.openAPIRegistry.registerPath(route.spec as RouteConfig);
    app.on(route.spec.method.toUpperCase(), route.spec.path.replace(/\{(\w+)\}/g, ":$1"), route.handler);
  }
  return app as unknown as OpenAPIHono<AppEnv, ModuleSchema<Ds> extends Schema ? ModuleSchema<Ds> : never>;
}

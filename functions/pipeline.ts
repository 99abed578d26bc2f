/**
 * The request pipeline every deployment shares, whatever routes it serves: request context,
 * secure headers, the routes it is given, the OpenAPI document and reference page, 404/405
 * problem documents and the one error handler. `createApp` (app.ts) mounts every route module;
 * a per-route function (functions/standalone/) mounts one. This module imports no route module,
 * so a bundle built from a standalone entry carries only the routes it mounts.
 */

import { OpenAPIHono } from "@hono/zod-openapi";
import type { Hono, Schema } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { AppDeps, AppEnv } from "./context";
import { DOCS_ASSETS, DOCS_ASSETS_PATH, DOCS_INITIALIZER, docsPage } from "./http/docs-page";
import { errorHandler } from "./http/errors";
import { finishOperations } from "./http/openapi";
import { problemResponse } from "./http/problems";
import { createKeyedHasher } from "./lib/keyed-hash";
import { createSecretBox, parseKeyring } from "./lib/secret-box";
import { requestContext } from "./middleware/request-context";

/** The API version the OpenAPI document states. */
export const API_VERSION = "0.1.0";

const defaultLog = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

/**
 * 404 for paths no route serves, 405 (with Allow) for paths served under other methods.
 * The route table is compiled on first use, after every module is mounted.
 */
function notFoundOrMethodNotAllowed(app: Hono<AppEnv>) {
  let table: { pattern: RegExp; method: string }[] | undefined;
  return (c: Parameters<Parameters<Hono<AppEnv>["notFound"]>[0]>[0]) => {
    table ??= app.routes
      .filter((r) => r.method !== "ALL" && !r.path.includes("*"))
      .map((r) => ({
        method: r.method,
        pattern: new RegExp(`^${r.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:\w+/g, "[^/]+")}/?$`),
      }));
    const allowed = [...new Set(table.filter((r) => r.pattern.test(c.req.path)).map((r) => r.method))];
    const requestId = c.get("requestId") ?? crypto.randomUUID();
    if (allowed.length === 0) return problemResponse("not_found", requestId);
    return problemResponse("method_not_allowed", requestId, { headers: { Allow: allowed.join(", ") } });
  };
}

const TITLE = "User Data Hardening API";

/**
 * The OpenAPI 3.1 document of the routes mounted on `app`: every operation with an operationId,
 * public ones with `security: []`. The server is "/" (the origin that serves the document):
 * APP_URL is where message links point, not necessarily this API's origin.
 */
export function openApiDocument(app: OpenAPIHono<AppEnv>) {
  return finishOperations(
    app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: TITLE,
        version: API_VERSION,
        description:
          "Accounts, sessions, TOTP MFA, tenants, consents, preferences, usage and security events. " +
          "Errors are RFC 9457 problem documents (application/problem+json) with a stable `code`.",
      },
      servers: [{ url: "/", description: "The origin serving this document" }],
    }),
  );
}

/**
 * `/docs`: Swagger UI from the service itself (http/docs-page.ts). The page and its initializer
 * are answered here on every platform; the package files only when the entry gives a reader
 * (Node), since on Workers the static assets layer serves them before the Worker runs.
 */
function serveDocsPage(app: OpenAPIHono<AppEnv>, deps: AppDeps) {
  app.get("/docs", (c) => c.html(docsPage(TITLE)));
  app.get(`${DOCS_ASSETS_PATH}/swagger-initializer.js`, (c) =>
    c.body(DOCS_INITIALIZER, 200, { "Content-Type": "text/javascript; charset=utf-8" }),
  );
  const read = deps.docsAssets;
  if (!read) return;
  for (const [name, type] of Object.entries(DOCS_ASSETS) as [keyof typeof DOCS_ASSETS, string][]) {
    app.get(`${DOCS_ASSETS_PATH}/${name}`, async (c) => {
      const bytes = await read(name);
      if (!bytes) return c.notFound();
      // The files change only with the package version: a day of caching is safe.
      return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
        "Content-Type": type,
        "Cache-Control": "public, max-age=86400",
      });
    });
  }
}

/**
 * Builds an app from its dependencies around the routes `mountRoutes` adds. `mountRoutes` gets
 * the app after the middleware and returns it with its routes (chained `.route()` calls), so the
 * returned app's type lists exactly those routes (for `hc`, hono/client). It must return the app
 * it was given (what `.route()` returns).
 */
export function createPipelineApp<S extends Schema>(
  deps: AppDeps,
  mountRoutes: (app: OpenAPIHono<AppEnv>) => OpenAPIHono<AppEnv, S>,
): OpenAPIHono<AppEnv, S> {
  const log = deps.log ?? defaultLog;
  const app = new OpenAPIHono<AppEnv>();

  // Secrets are checked here, once: a bad key fails start-up, not a request.
  const vault = {
    // One key per purpose, derived from IP_HASH_KEY (rotating it rotates all three).
    hash: {
      ip: createKeyedHasher(deps.config.ipHashKey, "ip"),
      userAgent: createKeyedHasher(deps.config.ipHashKey, "user-agent"),
      limitKey: createKeyedHasher(deps.config.ipHashKey, "rate-limit"),
    },
    box: createSecretBox(parseKeyring(deps.config.encryptionKeys)),
  };
  app.use("*", requestContext({ ...deps, log }, vault));
  app.use("*", secureHeaders());
  // API answers carry sessions, secrets and personal data: no cache may keep any (ASVS 8.2.1).
  app.use("/v1/*", async function noStore(c, next) {
    await next();
    c.res.headers.set("Cache-Control", "no-store");
  });

  const routed = mountRoutes(app);
  // `.route()` returns the app itself; a different app here would serve no request.
  if ((routed as unknown) !== app) throw new Error("mountRoutes must return the app it was given");

  // Routes name `security: [{ bearer: [] }]`; the scheme itself is declared once here.
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "A session token from login, MFA verification or password reset",
  });
  // Service routes name `security: [{ apiKey: ["<scope>"] }]`, the scope the key must hold.
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description: "A tenant API key (`udh_…`), for the /v1/service/* routes only",
  });
  // Built on first request, after every route is mounted, then served as is.
  let document: object | undefined;
  app.get("/openapi.json", (c) => {
    document ??= openApiDocument(app);
    return c.json(document);
  });
  serveDocsPage(app, deps);

  app.notFound(notFoundOrMethodNotAllowed(app));
  app.onError(errorHandler(log));
  return routed;
}

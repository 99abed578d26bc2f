/**
 * The app factory: one Hono app built from its dependencies. Entries (Workers, Lambda, Node)
 * only translate their platform into AppDeps; no route knows which door it came in by.
 */

import { swaggerUI } from "@hono/swagger-ui";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { AppDeps, AppEnv } from "./context";
import { errorHandler } from "./http/errors";
import { problemResponse } from "./http/problems";
import { createKeyedHasher } from "./lib/keyed-hash";
import { createSecretBox, parseKeyring } from "./lib/secret-box";
import { requestContext } from "./middleware/request-context";
import { authRoutes } from "./routes/auth";
import { consentRoutes } from "./routes/consents";
import { devRoutes } from "./routes/dev";
import { meRoutes } from "./routes/me";
import { mfaRoutes } from "./routes/mfa";
import { mfaChallengeRoutes } from "./routes/mfa-challenge";
import { notificationPreferenceRoutes } from "./routes/notification-preferences";
import { passwordRoutes } from "./routes/password";
import { securityEventRoutes } from "./routes/security-events";
import { serviceRoutes } from "./routes/service";
import { tenantRoutes } from "./routes/tenants";
import { usageRoutes } from "./routes/usage";

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

export function createApp(deps: AppDeps) {
  const log = deps.log ?? defaultLog;
  const app = new OpenAPIHono<AppEnv>();

  // Secrets are checked here, once: a bad key fails start-up, not a request.
  const vault = {
    keyedHash: createKeyedHasher(deps.config.ipHashKey),
    box: createSecretBox(parseKeyring(deps.config.encryptionKeys)),
  };
  app.use("*", requestContext({ ...deps, log }, vault));
  app.use("*", secureHeaders());

  app.route("/", serviceRoutes);
  app.route("/v1/auth", authRoutes);
  app.route("/v1/auth/mfa", mfaChallengeRoutes);
  app.route("/v1/auth/password", passwordRoutes);
  app.route("/v1/me", meRoutes);
  app.route("/v1/mfa", mfaRoutes);
  app.route("/v1/tenants", tenantRoutes);
  app.route("/v1/consents", consentRoutes);
  app.route("/v1/notification-preferences", notificationPreferenceRoutes);
  app.route("/v1/usage", usageRoutes);
  app.route("/v1", securityEventRoutes);
  if (deps.config.appEnv === "development") app.route("/v1/dev", devRoutes);

  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "User Data Hardening API",
      version: API_VERSION,
      description: "Accounts, sessions, TOTP MFA, tenants, consents, preferences, usage and security events.",
    },
  });
  app.get("/docs", swaggerUI({ url: "/openapi.json", title: "User Data Hardening API" }));

  app.notFound(notFoundOrMethodNotAllowed(app));
  app.onError(errorHandler(log));
  return app;
}

export type App = ReturnType<typeof createApp>;

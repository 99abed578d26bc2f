/**
 * The app factory: one Hono app built from its dependencies. Entries (Workers, Lambda, Node)
 * only translate their platform into AppDeps; no route knows which door it came in by. The
 * middleware, error and 404/405 pipeline lives in pipeline.ts; this module mounts every route
 * module on it. Its types (`App`, `AppType`) carry every route, for typed clients.
 */

import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "./context";
import { createPipelineApp } from "./pipeline";
import { apiKeyRoutes } from "./routes/api-keys";
import { authRoutes } from "./routes/auth";
import { consentRoutes } from "./routes/consents";
import { devRoutes } from "./routes/dev";
import { emailRoutes } from "./routes/email";
import { invitationRoutes } from "./routes/invitations";
import { meRoutes } from "./routes/me";
import { mfaRoutes } from "./routes/mfa";
import { mfaChallengeRoutes } from "./routes/mfa-challenge";
import { notificationPreferenceRoutes } from "./routes/notification-preferences";
import { passwordRoutes } from "./routes/password";
import { recoveryCodeRoutes } from "./routes/recovery-codes";
import { securityEventRoutes } from "./routes/security-events";
import { serviceRoutes } from "./routes/service";
import { serviceAccessRoutes } from "./routes/service-access";
import { tenantRoutes } from "./routes/tenants";
import { usageRoutes } from "./routes/usage";
import { webauthnAuthRoutes, webauthnMfaRoutes } from "./routes/webauthn";
import { webhookRoutes } from "./routes/webhooks";

export { API_VERSION } from "./pipeline";

/** Mounts every route module. Chained, so the result's type is the whole API's. */
function mountAllRoutes(app: OpenAPIHono<AppEnv>) {
  return app
    .route("/", serviceRoutes)
    .route("/v1/auth", authRoutes)
    .route("/v1/auth/mfa", mfaChallengeRoutes)
    .route("/v1/auth", webauthnAuthRoutes)
    .route("/v1/auth/password", passwordRoutes)
    .route("/v1/auth/email", emailRoutes)
    .route("/v1/me", meRoutes)
    .route("/v1/mfa", mfaRoutes)
    .route("/v1/mfa/recovery-codes", recoveryCodeRoutes)
    .route("/v1/mfa/webauthn", webauthnMfaRoutes)
    .route("/v1/tenants", tenantRoutes)
    .route("/v1/tenants", apiKeyRoutes)
    .route("/v1/invitations", invitationRoutes)
    .route("/v1/tenants", webhookRoutes)
    .route("/v1/consents", consentRoutes)
    .route("/v1/notification-preferences", notificationPreferenceRoutes)
    .route("/v1/usage", usageRoutes)
    .route("/v1", securityEventRoutes)
    .route("/v1/service", serviceAccessRoutes);
}

/** Builds the whole API from its dependencies. */
export function createApp(deps: AppDeps) {
  return createPipelineApp(deps, (app) => {
    const all = mountAllRoutes(app);
    // Left out of the type on purpose: the outbox route exists only in development.
    if (deps.config.appEnv === "development") app.route("/v1/dev", devRoutes);
    return all;
  });
}

export type App = ReturnType<typeof createApp>;

/**
 * The API's type for `hc<AppType>()` from hono/client: every route with its method, path,
 * input (from the route's request schemas) and responses (from its response schemas). Import it
 * with `import type`; it costs nothing at run time.
 */
export type AppType = App;

/**
 * A per-route function: the usage module alone, as its own Worker (`wrangler.usage.toml`), built
 * from the same code as the full API: the same pipeline (request context, secure headers,
 * problem documents, 404/405, error handler) around one route module, plus the service
 * endpoints every deployment needs for health checks. Routes that other Workers serve are 404
 * here. It accepts the sessions the main API issues, since both read the same database.
 *
 * Deploy it behind the main API's hostname on the path it serves (a Workers route such as
 * `api.example.com/v1/usage*`), so metering traffic scales and fails apart from sign-in traffic.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppDeps, AppEnv } from "../context";
import { createPipelineApp } from "../pipeline";
import { type WorkerEnv, workerDeps } from "../platform/worker";
import { serviceRoutes } from "../routes/service";
import { usageRoutes } from "../routes/usage";

/** Mounts the usage module where the full API mounts it, and the service endpoints. */
export function mountUsage(app: OpenAPIHono<AppEnv>) {
  return app.route("/", serviceRoutes).route("/v1/usage", usageRoutes);
}

/** The usage-only app (any platform's dependencies). */
export function createUsageApp(deps: AppDeps) {
  return createPipelineApp(deps, mountUsage);
}

/** The usage-only app's type, for `hc<UsageAppType>()`. */
export type UsageAppType = ReturnType<typeof createUsageApp>;

let app: UsageAppType | undefined;

export default {
  fetch(request, env, ctx) {
    app ??= createUsageApp(workerDeps(env));
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<WorkerEnv>;

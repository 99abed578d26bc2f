/** Service endpoints: liveness, readiness. (The OpenAPI document and /docs are mounted by the app.) */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppContext, AppEnv } from "../context";
import { problemResponse } from "../http/problems";
import { defineRoute } from "../http/route";
import { jsonResponse, ProblemSchema } from "../http/schemas";

/** A readiness check that has not answered by then counts as down. */
const READY_CHECK_TIMEOUT_MS = 3_000;

const Health = z.object({ status: z.literal("ok") }).openapi("Health");
const Checks = z.object({ database: z.enum(["ok", "down"]), rateLimitStore: z.enum(["ok", "down"]) });
const Ready = z.object({ status: z.literal("ok"), checks: Checks }).openapi("Ready");

async function check(probe: () => Promise<void>): Promise<"ok" | "down"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timeout")), READY_CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return "ok";
  } catch {
    return "down";
  } finally {
    clearTimeout(timer);
  }
}

const withHealth = defineRoute(
  new OpenAPIHono<AppEnv>(),
  createRoute({
    method: "get",
    path: "/healthz",
    tags: ["service"],
    summary: "Liveness: the process is up",
    responses: { 200: jsonResponse("Up", Health) },
  }),
  (c) => c.json({ status: "ok" as const }),
);

const withReady = defineRoute(
  withHealth,
  createRoute({
    method: "get",
    path: "/readyz",
    tags: ["service"],
    summary: "Readiness: the database and the rate-limit store answer",
    responses: {
      200: jsonResponse("Ready", Ready),
      503: {
        description: "A dependency is down (service_unavailable, with `checks`)",
        content: { "application/problem+json": { schema: ProblemSchema.extend({ checks: Checks }) } },
      },
    },
  }),
  async (c: AppContext) => {
    const [database, rateLimitStore] = await Promise.all([
      check(() => c.var.db.ping()),
      check(() => c.var.limiter.ping()),
    ]);
    const checks = { database, rateLimitStore };
    if (database === "ok" && rateLimitStore === "ok") return c.json({ status: "ok" as const, checks });
    const down = Object.entries(checks)
      .filter(([, v]) => v === "down")
      .map(([k]) => k);
    return problemResponse("service_unavailable", c.var.requestId, {
      detail: `Not ready: ${down.join(", ")} down.`,
      members: { checks },
    });
  },
);

/**
 * Liveness and readiness (mounted at /).
 * Chained route by route (`with…` above), so its type carries every route for typed clients.
 */
export const serviceRoutes = withReady;

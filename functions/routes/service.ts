/** Service endpoints: liveness, readiness. (The OpenAPI document and /docs are mounted by the app.) */
import { problemResponse } from "../http/problems";
import { json } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonResponse, ProblemSchema } from "../http/schemas";
import * as z from "../http/zod";

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

const health = defineRoute(
  {
    method: "get",
    path: "/healthz",
    tags: ["service"],
    summary: "Liveness: the process is up",
    responses: { 200: jsonResponse("Up", Health) },
    // Liveness reads no database or store: a dependency that is down never fails it (no 503).
    dependencies: "none",
  },
  () => json({ status: "ok" }),
);

const ready = defineRoute(
  {
    method: "get",
    path: "/readyz",
    tags: ["service"],
    summary: "Readiness: the database and the rate-limit store answer",
    responses: {
      200: jsonResponse("Ready", Ready),
      // Its own 503, richer than the shared one: it names each dependency's state.
      503: {
        description: "A dependency is down (service_unavailable, with `checks`)",
        content: { "application/problem+json": { schema: ProblemSchema.extend({ checks: Checks }) } },
      },
    },
  },
  async (scope) => {
    const [database, rateLimitStore] = await Promise.all([
      check(() => scope.db.ping()),
      check(() => scope.limiter.ping()),
    ]);
    const checks = { database, rateLimitStore };
    if (database === "ok" && rateLimitStore === "ok") return json({ status: "ok", checks });
    const down = Object.entries(checks)
      .filter(([, v]) => v === "down")
      .map(([k]) => k);
    return problemResponse("service_unavailable", scope.requestId, {
      detail: `Not ready: ${down.join(", ")} down.`,
      members: { checks },
    });
  },
);

/** Liveness and readiness (mounted at /). */
export const serviceRoutes = routeModule(health, ready);

/** GET /v1/me: the caller, the current session and an MFA summary (two statements in all). */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, eq, isNull, sql } from "drizzle-orm";
import { UserSchema, userView } from "../auth/schemas";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../http/problems";
import { defineRoute } from "../http/route";
import { jsonResponse, problemResponses } from "../http/schemas";
import { requireAuth } from "../middleware/auth";

const MeSchema = z
  .object({
    user: UserSchema,
    session: z.object({ id: z.string(), aal: z.number().int(), expiresAt: z.string() }),
    mfa: z.object({
      enabled: z.boolean(),
      verifiedFactors: z.number().int(),
      recoveryCodesRemaining: z.number().int(),
    }),
  })
  .openapi("Me");

/** GET /v1/me (mounted at /v1/me). Its type carries the route, for typed clients. */
export const meRoutes = defineRoute(
  new OpenAPIHono<AppEnv>(),
  createRoute({
    method: "get",
    path: "/",
    tags: ["auth"],
    summary: "The caller, the current session and MFA status",
    security: [{ bearer: [] }],
    responses: { 200: jsonResponse("Me", MeSchema), ...problemResponses("unauthorized") },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const { db, t } = c.var.db;
    const { userId, sessionId, aal, expiresAt } = c.var.auth;
    const u = t.users;
    const f = t.userMfaMethods;
    const r = t.userRecoveryCodes;
    // One statement: the user row with both counts as scalar subqueries.
    const [row] = await db
      .select({
        id: u.id,
        email: u.email,
        displayName: u.displayName,
        createdAt: u.createdAt,
        verifiedFactors:
          sql<number>`(select count(*) from ${f} where ${and(eq(f.userId, u.id), eq(f.status, "verified"))})`.mapWith(
            Number,
          ),
        recoveryCodesRemaining:
          sql<number>`(select count(*) from ${r} where ${and(eq(r.userId, u.id), isNull(r.usedAt))})`.mapWith(
            Number,
          ),
      })
      .from(u)
      .where(eq(u.id, userId));
    if (!row) throw new ApiError("unauthorized");
    return c.json({
      user: userView(row),
      session: { id: sessionId, aal, expiresAt: expiresAt.toISOString() },
      mfa: {
        enabled: row.verifiedFactors > 0,
        verifiedFactors: row.verifiedFactors,
        recoveryCodesRemaining: row.recoveryCodesRemaining,
      },
    });
  },
);

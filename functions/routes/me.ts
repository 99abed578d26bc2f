/** GET /v1/me: the caller, the current session and an MFA summary (two statements in all). */
import { z } from "@hono/zod-openapi";
import { UserSchema } from "../auth/schemas";
import { ApiError } from "../http/problems";
import { json } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonResponse } from "../http/schemas";
import { findAccountSummary } from "../stores/account";
import { userView } from "../stores/users";

const MeSchema = z
  .object({
    user: UserSchema,
    session: z.object({
      id: z.string(),
      aal: z.number().int(),
      expiresAt: z.string(),
      authenticatedAt: z.string(),
    }),
    mfa: z.object({
      enabled: z.boolean(),
      verifiedFactors: z.number().int(),
      recoveryCodesRemaining: z.number().int(),
    }),
  })
  .openapi("Me");

const me = defineRoute(
  {
    method: "get",
    path: "/",
    tags: ["auth"],
    summary: "The caller, the current session and MFA status",
    security: [{ bearer: [] }],
    responses: { 200: jsonResponse("Me", MeSchema) },
  },
  async (scope) => {
    const { userId, sessionId, aal, expiresAt, authenticatedAt } = scope.auth;
    const row = await findAccountSummary(scope.db, userId);
    if (!row) throw new ApiError("unauthorized");
    return json({
      user: userView(row),
      session: {
        id: sessionId,
        aal,
        expiresAt: expiresAt.toISOString(),
        authenticatedAt: authenticatedAt.toISOString(),
      },
      mfa: {
        enabled: row.verifiedFactors > 0,
        verifiedFactors: row.verifiedFactors,
        recoveryCodesRemaining: row.recoveryCodesRemaining,
      },
    });
  },
);

/** GET /v1/me (mounted at /v1/me). */
export const meRoutes = routeModule(me);

/**
 * Recovery codes of the signed-in user (mounted at /v1/mfa/recovery-codes): regenerate (needs
 * a current second factor, rate limited and failing closed) and a count of what is left.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, count, eq, isNull, max } from "drizzle-orm";
import type { AppContext, AppEnv } from "../context";
import { defineRoute } from "../http/route";
import { jsonRequest, jsonResponse, problemResponses } from "../http/schemas";
import { jsonBody } from "../http/validation";
import { newRecoveryCodeSet, requireSecondFactor, SecondFactorBody } from "../mfa/management";
import { requireAuth } from "../middleware/auth";
import { securityEventRow } from "../security-events";

// ---------------------------------------------------------------------------------------------
const withRegenerate = defineRoute(
  new OpenAPIHono<AppEnv>(),
  createRoute({
    method: "post",
    path: "/",
    tags: ["mfa"],
    summary: "Replace the recovery codes (needs a current code or a recovery code)",
    security: [{ bearer: [] }],
    request: jsonRequest(SecondFactorBody),
    responses: {
      201: jsonResponse("New codes, shown once", z.object({ recoveryCodes: z.array(z.string()) })),
      ...problemResponses(
        "invalid_request",
        "unauthorized",
        "invalid_mfa_code",
        "rate_limited",
        "rate_limit_unavailable",
      ),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const body = await jsonBody(c, SecondFactorBody);
    await requireSecondFactor(c, body, "regenerate_recovery_codes");
    const { codes, write } = await newRecoveryCodeSet(c);
    const { t } = c.var.db;
    const event = await securityEventRow(c, {
      type: "mfa.recovery_codes_regenerated",
      userId: c.var.auth.userId,
    });
    await c.var.db.atomic((tx) => [...write(tx, t), tx.insert(t.securityEvents).values(event)]);
    return c.json({ recoveryCodes: codes }, 201);
  },
);

const withRecoveryStatus = defineRoute(
  withRegenerate,
  createRoute({
    method: "get",
    path: "/",
    tags: ["mfa"],
    summary: "How many recovery codes are left (never the codes)",
    security: [{ bearer: [] }],
    responses: {
      200: jsonResponse(
        "Status",
        z.object({ remaining: z.number().int(), createdAt: z.string().nullable() }),
      ),
      ...problemResponses("unauthorized"),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const { db, t } = c.var.db;
    const r = t.userRecoveryCodes;
    const [set] = await db
      .select({ createdAt: max(r.createdAt) })
      .from(r)
      .where(eq(r.userId, c.var.auth.userId));
    const [left] = await db
      .select({ n: count() })
      .from(r)
      .where(and(eq(r.userId, c.var.auth.userId), isNull(r.usedAt)));
    const createdAt = set?.createdAt ? new Date(set.createdAt as unknown as string | number | Date) : null;
    return c.json({ remaining: Number(left?.n ?? 0), createdAt: createdAt?.toISOString() ?? null });
  },
);

/** Chained route by route, so its type carries every route for typed clients. */
export const recoveryCodeRoutes = withRecoveryStatus;

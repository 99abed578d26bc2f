/**
 * Recovery codes of the signed-in user (mounted at /v1/mfa/recovery-codes): regenerate (needs
 * a current second factor, rate limited and failing closed) and a count of what is left.
 */
import { prepareNotice } from "../auth/mail";
import { json } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse } from "../http/schemas";
import * as z from "../http/zod";
import { newRecoveryCodeSet } from "../mfa/recovery-codes";
import { SecondFactorBody, verifySecondFactor } from "../mfa/second-factor";
import { sessionBinding } from "../mfa/webauthn";
import { securityEventRow } from "../security-events";
import { recoveryCodeStatus, replaceRecoveryCodes } from "../stores/factors";
import { insertOutboxMessageToUser } from "../stores/outbox";
import { insertSecurityEvents } from "../stores/security-events";

const regenerate = defineRoute(
  {
    method: "post",
    path: "/",
    tags: ["mfa"],
    summary: "Replace the recovery codes (needs a current code or a recovery code)",
    security: [{ bearer: [] }],
    request: jsonRequest(SecondFactorBody),
    responses: {
      201: jsonResponse("New codes, shown once", z.object({ recoveryCodes: z.array(z.string()) })),
    },
    errors: ["invalid_mfa_code", "rate_limited", "rate_limit_unavailable"],
  },
  async (scope, { body }) => {
    const { t } = scope.db;
    const { userId, sessionId } = scope.auth;
    const webauthnBinding = sessionBinding(sessionId);
    await verifySecondFactor(scope, { userId, flow: "regenerate_recovery_codes", webauthnBinding }, body);
    const { codes, rows } = await newRecoveryCodeSet(userId, scope.now);
    const event = await securityEventRow(scope, { type: "mfa.recovery_codes_regenerated", userId });
    const notice = await prepareNotice(scope, userId, "recovery_codes_regenerated");
    await scope.db.atomic((db) => [
      ...replaceRecoveryCodes(db, t, userId, rows),
      ...insertSecurityEvents(db, t, [event]),
      insertOutboxMessageToUser(db, t, notice, userId),
    ]);
    return json({ recoveryCodes: codes }, 201);
  },
);

const status = defineRoute(
  {
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
    },
  },
  async (scope) => {
    const { remaining, createdAt } = await recoveryCodeStatus(scope.db, scope.auth.userId);
    return json({ remaining, createdAt: createdAt?.toISOString() ?? null });
  },
);

/** Regenerate and count the caller's recovery codes (mounted at /v1/mfa/recovery-codes). */
export const recoveryCodeRoutes = routeModule(regenerate, status);

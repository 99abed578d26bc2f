/**
 * Recovery codes of the signed-in user (mounted at /v1/mfa/recovery-codes): regenerate (needs
 * a current second factor, rate limited and failing closed) and a count of what is left.
 */
import { and, eq } from "drizzle-orm";
import { prepareNotice } from "../auth/mail";
import { json } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse } from "../http/schemas";
import * as z from "../http/zod";
import { newRecoveryCodeSet } from "../mfa/recovery-codes";
import { SecondFactorBody, verifySecondFactor, verifyTotpAgainst } from "../mfa/second-factor";
import { sessionBinding } from "../mfa/webauthn";
import { securityEventRow } from "../security-events";
import {
  listVerifiedFactorSecrets,
  recoveryCodeStatus,
  replaceRecoveryCodes,
  replaceRecoveryCodesWhen,
  spendTotpStepWith,
} from "../stores/factors";
import { insertOutboxMessageToUser, insertOutboxMessageToUserIf } from "../stores/outbox";
import { insertSecurityEventIf, insertSecurityEvents } from "../stores/security-events";

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
    const who = {
      userId,
      flow: "regenerate_recovery_codes" as const,
      webauthnBinding: sessionBinding(sessionId),
    };
    // The new set, its event and the owner's notice, made once the factor matched.
    const prepare = async () => ({
      ...(await newRecoveryCodeSet(userId, scope.now)),
      event: await securityEventRow(scope, { type: "mfa.recovery_codes_regenerated", userId }),
      notice: await prepareNotice(scope, userId, "recovery_codes_regenerated"),
    });
    if (body.code !== undefined) {
      // A TOTP code: checked against the factors read here and spent in the batch that replaces
      // the codes (every write guarded by the step being unspent): two round trips in all.
      const factors = await listVerifiedFactorSecrets(scope.db, userId);
      const codes = await verifyTotpAgainst(scope, who, factors, body.code, async (match) => {
        const { codes, rows, event, notice } = await prepare();
        const u = t.users;
        const spent = await spendTotpStepWith(scope.db, match, scope.now, (db, unspent) => [
          ...replaceRecoveryCodesWhen(db, t, userId, rows, unspent),
          ...insertSecurityEventIf(db, t, event, u, and(eq(u.id, userId), unspent)),
          insertOutboxMessageToUserIf(db, t, notice, userId, unspent),
        ]);
        return spent ? codes : null;
      });
      return json({ recoveryCodes: codes }, 201);
    }
    await verifySecondFactor(scope, who, body);
    const { codes, rows, event, notice } = await prepare();
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

/**
 * MFA management for the signed-in user: TOTP enrollment and confirmation, the factor list,
 * factor removal. Checking a code (confirm, remove) goes through the second-factor verifier
 * (mfa/second-factor.ts): rate limited per user and per IP before the code is looked at, and
 * failing closed.
 */
import { and, eq } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import { prepareNotice } from "../auth/mail";
import { TotpCode } from "../auth/schemas";
import { requireRecentAuthentication, STEP_UP_ERRORS, stepUpFields } from "../auth/step-up";
import { requireVerifiedEmail } from "../auth/verification";
import { ApiError } from "../http/problems";
import { json, noContent } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse, Uuid } from "../http/schemas";
import { validate } from "../http/validation";
import * as z from "../http/zod";
import { totpQrSvg, totpUri } from "../lib/totp";
import { prepareFactorVerified } from "../mfa/factor-verified";
import {
  SecondFactorBody,
  verifySecondFactor,
  verifyTotpAgainst,
  withOptionalSecondFactor,
} from "../mfa/second-factor";
import { newTotpSecret } from "../mfa/totp";
import { sessionBinding } from "../mfa/webauthn";
import { securityEventRow } from "../security-events";
import { findAccountSummary } from "../stores/account";
import {
  confirmPendingTotp,
  deleteFactor,
  factorView,
  findOwnFactor,
  findOwnFactorWithSecrets,
  listFactors,
  replacePendingFactor,
  sealedTotp,
  spendTotpStepWith,
} from "../stores/factors";
import { insertOutboxMessageToUser, insertOutboxMessageToUserIf } from "../stores/outbox";
import { insertSecurityEventIf, insertSecurityEvents } from "../stores/security-events";

const FactorSchema = z
  .object({
    id: z.string(),
    type: z.enum(["totp", "webauthn"]),
    status: z.enum(["pending", "verified"]),
    label: z.string().nullable(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
  })
  .openapi("MfaFactor");

const FactorParams = z.object({ factorId: Uuid });

const enroll = defineRoute(
  {
    method: "post",
    path: "/totp",
    tags: ["mfa"],
    summary: "Start TOTP enrollment (replaces an older pending one)",
    security: [{ bearer: [] }],
    request: jsonRequest(
      z.object({ label: z.string().trim().min(1).max(64).optional(), ...stepUpFields }),
      false,
    ),
    responses: {
      201: jsonResponse(
        "Pending factor with its secret, shown once",
        z.object({ factor: FactorSchema, secret: z.string(), otpauthUri: z.string(), qrSvg: z.string() }),
      ),
    },
    errors: ["aal2_required", "email_not_verified", ...STEP_UP_ERRORS],
  },
  async (scope, { body }) => {
    const { t } = scope.db;
    const { userId, aal } = scope.auth;
    // The user (for the otpauth label) with its verified factor count, in one statement.
    const user = await findAccountSummary(scope.db, userId);
    if (!user) throw new ApiError("unauthorized");
    // Adding a factor to a protected account needs proof of the existing one.
    if (aal < 2 && user.verifiedFactors > 0) throw new ApiError("aal2_required");
    // And a recent authentication: a stolen password-only session must not be able to put the
    // thief's factor on the account (which would then gate the owner's sign-in).
    await requireRecentAuthentication(scope, body.currentPassword);
    await requireVerifiedEmail(scope);

    const id = uuidv7();
    const { secret, sealed } = await newTotpSecret(scope, id);
    const factor = {
      id,
      userId,
      type: "totp" as const,
      status: "pending" as const,
      label: body.label ?? null,
      secretKeyId: sealed.keyId,
      secretCiphertext: sealed.ciphertext,
      createdAt: scope.now,
    };
    const event = await securityEventRow(scope, {
      type: "mfa.totp_enrollment_started",
      userId,
      metadata: { factorId: id },
    });
    await scope.db.atomic((db) => [
      ...replacePendingFactor(db, t, factor),
      ...insertSecurityEvents(db, t, [event]),
    ]);
    const otpauthUri = totpUri({ secret, issuer: scope.config.totpIssuer, account: user.email });
    return json(
      {
        factor: factorView({ ...factor, lastUsedAt: null }),
        secret,
        otpauthUri,
        qrSvg: totpQrSvg(otpauthUri),
      },
      201,
    );
  },
);

const confirm = defineRoute(
  {
    method: "post",
    path: "/totp/{factorId}/verify",
    tags: ["mfa"],
    summary: "Confirm a pending TOTP factor with a code from the app",
    security: [{ bearer: [] }],
    request: { params: FactorParams, ...jsonRequest(z.object({ code: TotpCode })) },
    responses: {
      200: jsonResponse(
        "Verified; recovery codes only for the first verified factor",
        z.object({ factor: FactorSchema, recoveryCodes: z.array(z.string()).optional() }),
      ),
    },
    errors: ["not_found", "invalid_mfa_code", "rate_limited", "rate_limit_unavailable"],
  },
  async (scope, { params, body }) => {
    const { userId } = scope.auth;
    const { now } = scope;
    // The factor, and whether the user has a verified one yet: one statement.
    const factor = await findOwnFactor(scope.db, userId, params.factorId);
    if (!factor) throw new ApiError("not_found", "No such factor.");
    const notPending = () => new ApiError("not_found", "No pending factor with that id.");
    const sealed = sealedTotp(factor);
    if (factor.status !== "pending" || !sealed) throw notPending();
    // "First verified factor" is the count read with the factor (this one, still pending, is not
    // in it). A user has one pending factor at a time (enrolling replaces it), and the confirm
    // below happens once, so of the user's TOTP confirmations one sees zero.
    const verified = await prepareFactorVerified(scope, factor.id, factor.verifiedFactors === 0);
    // The code's step is recorded by the confirm itself, in the one batch that also writes what
    // the confirm unlocks, each write guarded by "still pending, step unspent" under the user's
    // and the factor's row locks (stores/factors.ts confirmPendingTotp). A step accepted
    // meanwhile is a replayed code: refused as a wrong one (401), after the limits.
    const outcome = await verifyTotpAgainst(
      scope,
      { userId, flow: "enroll" },
      [sealed],
      body.code,
      async ({ step }) => {
        const confirmed = await confirmPendingTotp(
          scope.db,
          { userId, factorId: factor.id, step, now },
          (db, pendingUnspent) => verified.writes(db, pendingUnspent),
        );
        return confirmed.outcome === "replayed" ? null : confirmed;
      },
    );
    if (outcome.outcome === "not_pending") throw notPending();
    const recoveryCodes = verified.shownCodes(outcome.written);
    return json({
      factor: factorView({ ...factor, status: "verified", lastUsedAt: now }),
      ...(recoveryCodes ? { recoveryCodes } : {}),
    });
  },
);

const list = defineRoute(
  {
    method: "get",
    path: "/factors",
    tags: ["mfa"],
    summary: "The caller's factors, pending ones included",
    security: [{ bearer: [] }],
    responses: { 200: jsonResponse("Factors", z.object({ factors: z.array(FactorSchema) })) },
  },
  async (scope) => json({ factors: (await listFactors(scope.db, scope.auth.userId)).map(factorView) }),
);

const remove = defineRoute(
  {
    method: "delete",
    path: "/factors/{factorId}",
    tags: ["mfa"],
    summary: "Remove a factor (a verified one needs a current code or a recovery code)",
    security: [{ bearer: [] }],
    request: { params: FactorParams, ...jsonRequest(withOptionalSecondFactor({}), false) },
    responses: { 204: { description: "Removed" } },
    errors: ["not_found", "invalid_mfa_code", "rate_limited", "rate_limit_unavailable"],
  },
  async (scope, { params, body }) => {
    const { t } = scope.db;
    const { userId } = scope.auth;
    // The factor with the user's verified TOTP secrets (to check a code with): one round trip.
    const found = await findOwnFactorWithSecrets(scope.db, userId, params.factorId);
    if (!found) throw new ApiError("not_found", "No such factor.");
    const { factor, secrets } = found;
    const verified = factor.status === "verified";
    const prepare = async () => ({
      event: await securityEventRow(scope, {
        type: "mfa.factor_removed",
        userId,
        metadata: { factorId: factor.id },
      }),
      // Removing a verified factor weakens the account: its owner hears of it.
      notice: verified ? await prepareNotice(scope, userId, "factor_removed") : null,
    });
    if (verified) {
      // A verified factor is removed only with exactly one current second factor (else 400).
      const proof = validate(SecondFactorBody, body, "body");
      const webauthnBinding = sessionBinding(scope.auth.sessionId);
      const who = { userId, flow: "remove_factor" as const, webauthnBinding };
      if (proof.code !== undefined) {
        // A TOTP code: spent in the batch that removes the factor, every write guarded by the
        // step being unspent (the event and notice before the deletion, which may remove the
        // very factor whose step is spent).
        await verifyTotpAgainst(scope, who, secrets, proof.code, async (match) => {
          const { event, notice } = await prepare();
          const u = t.users;
          const spent = await spendTotpStepWith(scope.db, match, scope.now, (db, unspent) => [
            ...insertSecurityEventIf(db, t, event, u, and(eq(u.id, userId), unspent)),
            ...(notice ? [insertOutboxMessageToUserIf(db, t, notice, userId, unspent)] : []),
            ...deleteFactor(db, t, userId, factor.id, unspent),
          ]);
          return spent ? {} : null;
        });
        return noContent();
      }
      await verifySecondFactor(scope, who, proof);
    }
    const { event, notice } = await prepare();
    await scope.db.atomic((db) => [
      ...deleteFactor(db, t, userId, factor.id),
      ...insertSecurityEvents(db, t, [event]),
      ...(notice ? [insertOutboxMessageToUser(db, t, notice, userId)] : []),
    ]);
    return noContent();
  },
);

/** TOTP enrollment and factors (mounted at /v1/mfa; recovery codes are in recovery-codes.ts). */
export const mfaRoutes = routeModule(enroll, confirm, list, remove);

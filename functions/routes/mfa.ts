/**
 * MFA management for the signed-in user: TOTP enrollment and verification, the factor list,
 * factor removal. Checking a code (verify, remove) is rate limited per user and per IP before
 * the code is looked at, and fails closed.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, asc, eq, ne, notExists } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import { RecoveryCode, TotpCode } from "../auth/schemas";
import { revokeSessions } from "../auth/sessions";
import { verifiedFactorCount } from "../auth/sign-in";
import type { AppContext, AppEnv } from "../context";
import { ApiError } from "../http/problems";
import { defineRoute } from "../http/route";
import { jsonRequest, jsonResponse, problemResponses, Uuid } from "../http/schemas";
import { jsonBody, params, validate } from "../http/validation";
import { generateTotpSecret, totpQrSvg, totpUri } from "../lib/totp";
import { newRecoveryCodeSet, requireSecondFactor, SecondFactorBody } from "../mfa/management";
import { acceptTotpCode, consumeMfaLimits } from "../mfa/second-factor";
import { requireAuth } from "../middleware/auth";
import { recordSecurityEvent, securityEventRow } from "../security-events";

const FactorSchema = z
  .object({
    id: z.string(),
    type: z.literal("totp"),
    status: z.enum(["pending", "verified"]),
    label: z.string().nullable(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
  })
  .openapi("MfaFactor");

interface FactorRow {
  id: string;
  type: "totp";
  status: "pending" | "verified";
  label: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  secretKeyId: string;
  secretCiphertext: string;
}

const factorView = (f: FactorRow) => ({
  id: f.id,
  type: f.type,
  status: f.status,
  label: f.label,
  createdAt: f.createdAt.toISOString(),
  lastUsedAt: f.lastUsedAt?.toISOString() ?? null,
});

/** The caller's factor `id`, or 404 (unknown and other users' factors alike). */
async function ownFactor(c: AppContext, id: string): Promise<FactorRow> {
  const { db, t } = c.var.db;
  const f = t.userMfaMethods;
  const [row] = await db
    .select({
      id: f.id,
      type: f.type,
      status: f.status,
      label: f.label,
      createdAt: f.createdAt,
      lastUsedAt: f.lastUsedAt,
      secretKeyId: f.secretKeyId,
      secretCiphertext: f.secretCiphertext,
    })
    .from(f)
    .where(and(eq(f.id, id), eq(f.userId, c.var.auth.userId)));
  if (!row) throw new ApiError("not_found", "No such factor.");
  return row;
}

// ---------------------------------------------------------------------------------------------
const EnrollBody = z.object({ label: z.string().trim().min(1).max(64).optional() });

const withEnroll = defineRoute(
  new OpenAPIHono<AppEnv>(),
  createRoute({
    method: "post",
    path: "/totp",
    tags: ["mfa"],
    summary: "Start TOTP enrollment (replaces an older pending one)",
    security: [{ bearer: [] }],
    request: jsonRequest(EnrollBody, false),
    responses: {
      201: jsonResponse(
        "Pending factor with its secret, shown once",
        z.object({ factor: FactorSchema, secret: z.string(), otpauthUri: z.string(), qrSvg: z.string() }),
      ),
      ...problemResponses("invalid_request", "unauthorized", "aal2_required"),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const body = await jsonBody(c, EnrollBody, { optional: true });
    const { userId, aal } = c.var.auth;
    // Adding a factor to a protected account needs proof of the existing one.
    if (aal < 2 && (await verifiedFactorCount(c, userId)) > 0) throw new ApiError("aal2_required");
    const { db, t } = c.var.db;
    const [user] = await db.select({ email: t.users.email }).from(t.users).where(eq(t.users.id, userId));
    if (!user) throw new ApiError("unauthorized");

    const id = uuidv7();
    const secret = generateTotpSecret();
    const sealed = await c.var.vault.box.seal(secret, id);
    const factor = {
      id,
      userId,
      type: "totp" as const,
      status: "pending" as const,
      label: body.label ?? null,
      secretKeyId: sealed.keyId,
      secretCiphertext: sealed.ciphertext,
      createdAt: c.var.now,
    };
    const event = await securityEventRow(c, {
      type: "mfa.totp_enrollment_started",
      userId,
      metadata: { factorId: id },
    });
    const f = t.userMfaMethods;
    await c.var.db.atomic((tx) => [
      tx.delete(f).where(and(eq(f.userId, userId), eq(f.status, "pending"))),
      tx.insert(f).values(factor),
      tx.insert(t.securityEvents).values(event),
    ]);
    const otpauthUri = totpUri({ secret, issuer: c.var.config.totpIssuer, account: user.email });
    return c.json(
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

// ---------------------------------------------------------------------------------------------
const FactorParams = z.object({ factorId: Uuid });
const VerifyBody = z.object({ code: TotpCode });

const withVerify = defineRoute(
  withEnroll,
  createRoute({
    method: "post",
    path: "/totp/{factorId}/verify",
    tags: ["mfa"],
    summary: "Confirm a pending TOTP factor with a code from the app",
    security: [{ bearer: [] }],
    request: { params: FactorParams, ...jsonRequest(VerifyBody) },
    responses: {
      200: jsonResponse(
        "Verified; recovery codes only for the first verified factor",
        z.object({ factor: FactorSchema, recoveryCodes: z.array(z.string()).optional() }),
      ),
      ...problemResponses(
        "invalid_request",
        "unauthorized",
        "not_found",
        "invalid_mfa_code",
        "rate_limited",
        "rate_limit_unavailable",
      ),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const { factorId } = params(c, FactorParams);
    const { code } = await jsonBody(c, VerifyBody);
    const factor = await ownFactor(c, factorId);
    if (factor.status !== "pending") throw new ApiError("not_found", "No pending factor with that id.");
    const { userId, sessionId } = c.var.auth;
    await consumeMfaLimits(c, userId);
    // Records the enrollment code's time step, so that code cannot be replayed at login.
    if (!(await acceptTotpCode(c, factor, code))) {
      await recordSecurityEvent(c, { type: "auth.mfa_failed", userId, metadata: { flow: "enroll" } });
      throw new ApiError("invalid_mfa_code");
    }
    const first = (await verifiedFactorCount(c, userId)) === 0;
    const recovery = first ? await newRecoveryCodeSet(c) : null;
    const event = await securityEventRow(c, {
      type: "mfa.factor_verified",
      userId,
      metadata: { factorId, first },
    });
    const { t } = c.var.db;
    const f = t.userMfaMethods;
    const now = c.var.now;
    await c.var.db.atomic((tx) => [
      tx.update(f).set({ status: "verified", verifiedAt: now }).where(eq(f.id, factorId)),
      ...(recovery
        ? [
            ...recovery.write(tx, t),
            // The session that proved the new factor is now aal 2; every other one is revoked.
            tx.update(t.userSessions).set({ aal: 2 }).where(eq(t.userSessions.id, sessionId)),
            revokeSessions(tx, t, userId, now, sessionId),
          ]
        : []),
      tx.insert(t.securityEvents).values(event),
    ]);
    return c.json({
      factor: factorView({ ...factor, status: "verified", lastUsedAt: now }),
      ...(recovery ? { recoveryCodes: recovery.codes } : {}),
    });
  },
);

// ---------------------------------------------------------------------------------------------
const withFactorList = defineRoute(
  withVerify,
  createRoute({
    method: "get",
    path: "/factors",
    tags: ["mfa"],
    summary: "The caller's factors, pending ones included",
    security: [{ bearer: [] }],
    responses: {
      200: jsonResponse("Factors", z.object({ factors: z.array(FactorSchema) })),
      ...problemResponses("unauthorized"),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const { db, t } = c.var.db;
    const f = t.userMfaMethods;
    const rows = await db
      .select({
        id: f.id,
        type: f.type,
        status: f.status,
        label: f.label,
        createdAt: f.createdAt,
        lastUsedAt: f.lastUsedAt,
      })
      .from(f)
      .where(eq(f.userId, c.var.auth.userId))
      .orderBy(asc(f.id));
    return c.json({ factors: rows.map((r) => factorView({ ...r, secretKeyId: "", secretCiphertext: "" })) });
  },
);

// ---------------------------------------------------------------------------------------------
const RemoveBody = z.object({ code: TotpCode.optional(), recoveryCode: RecoveryCode.optional() });

const withFactorRemove = defineRoute(
  withFactorList,
  createRoute({
    method: "delete",
    path: "/factors/{factorId}",
    tags: ["mfa"],
    summary: "Remove a factor (a verified one needs a current code or a recovery code)",
    security: [{ bearer: [] }],
    request: { params: FactorParams, ...jsonRequest(RemoveBody, false) },
    responses: {
      204: { description: "Removed" },
      ...problemResponses(
        "invalid_request",
        "unauthorized",
        "not_found",
        "invalid_mfa_code",
        "rate_limited",
        "rate_limit_unavailable",
      ),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const { factorId } = params(c, FactorParams);
    const body = await jsonBody(c, RemoveBody, { optional: true });
    const factor = await ownFactor(c, factorId);
    const userId = c.var.auth.userId;
    if (factor.status === "verified") {
      // A verified factor is removed only with exactly one current second factor (else 400).
      await requireSecondFactor(c, validate(SecondFactorBody, body, "body"), "remove_factor");
    }
    const { t } = c.var.db;
    const f = t.userMfaMethods;
    const event = await securityEventRow(c, { type: "mfa.factor_removed", userId, metadata: { factorId } });
    await c.var.db.atomic((tx) => [
      tx.delete(f).where(eq(f.id, factorId)),
      // Removing the last verified factor also removes the recovery codes (same batch, after the delete).
      tx.delete(t.userRecoveryCodes).where(
        and(
          eq(t.userRecoveryCodes.userId, userId),
          notExists(
            tx
              .select({ id: f.id })
              .from(f)
              .where(and(eq(f.userId, userId), eq(f.status, "verified"), ne(f.id, factorId))),
          ),
        ),
      ),
      tx.insert(t.securityEvents).values(event),
    ]);
    return c.body(null, 204);
  },
);

/**
 * TOTP enrollment and factors (mounted at /v1/mfa; recovery codes are in recovery-codes.ts).
 * Chained route by route (`with…` above), so its type carries every route for typed clients.
 */
export const mfaRoutes = withFactorRemove;

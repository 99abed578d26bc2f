/**
 * Pieces shared by the MFA management routes (factors, recovery codes): the second-factor
 * body, the rate-limited check of the caller's current factor, and new recovery-code sets.
 */
import { z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import type { Db, Query, Schema } from "../../db/database";
import { exactlyOneSecondFactor, RecoveryCode, TotpCode } from "../auth/schemas";
import type { AppContext } from "../context";
import { ApiError } from "../http/problems";
import { generateRecoveryCodes, hashRecoveryCode } from "../lib/recovery-codes";
import { recordSecurityEvent } from "../security-events";
import { checkSecondFactor, consumeMfaLimits } from "./second-factor";

/** A fresh set of recovery codes: the plain codes (shown once) and a writer for their hashes. */
export async function newRecoveryCodeSet(c: AppContext) {
  const codes = generateRecoveryCodes();
  const now = c.var.now;
  const userId = c.var.auth.userId;
  const rows = await Promise.all(
    codes.map(async (code) => ({
      id: uuidv7(),
      userId,
      codeHash: await hashRecoveryCode(code),
      createdAt: now,
    })),
  );
  // Replaces the whole set: every older code stops working.
  const write = (db: Db, t: Schema): [Query, Query] => [
    db.delete(t.userRecoveryCodes).where(eq(t.userRecoveryCodes.userId, userId)),
    db.insert(t.userRecoveryCodes).values(rows),
  ];
  return { codes, write };
}

/** Exactly one of a current TOTP code and a recovery code. */
export const SecondFactorBody = z
  .object({ code: TotpCode.optional(), recoveryCode: RecoveryCode.optional() })
  .refine(...exactlyOneSecondFactor);

/** Rate limits, then checks a current second factor of the caller; 401 invalid_mfa_code if wrong. */
export async function requireSecondFactor(
  c: AppContext,
  body: z.output<typeof SecondFactorBody>,
  flow: string,
) {
  const userId = c.var.auth.userId;
  await consumeMfaLimits(c, userId);
  const result = await checkSecondFactor(c, userId, body);
  if (!result.ok) {
    await recordSecurityEvent(c, { type: "auth.mfa_failed", userId, metadata: { flow } });
    throw new ApiError("invalid_mfa_code");
  }
}

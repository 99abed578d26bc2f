/**
 * Checking a second factor: a TOTP code of any verified factor, or a recovery code. Used by
 * every flow that can issue a session (login challenge, password reset) and by the MFA
 * management routes. Both checks are single-use under races:
 * - TOTP: the accepted RFC 6238 time step is recorded with a compare-and-set
 *   (`WHERE last_used_step IS NULL OR last_used_step < :step`), so a code (or any earlier one)
 *   is accepted at most once per factor, even by two requests at the same instant;
 * - recovery codes: spent with `UPDATE … WHERE used_at IS NULL RETURNING`.
 * Callers apply the rate limits first (consumeMfaLimits): a code is checked only when allowed.
 */
import { and, eq, isNull, lt, or } from "drizzle-orm";
import { consumeLimits, ipIdentifier } from "../auth/rate-limits";
import type { AppContext } from "../context";
import { hashRecoveryCode, normalizeRecoveryCode } from "../lib/recovery-codes";
import { matchTotpStep } from "../lib/totp";
import { recordSecurityEvent } from "../security-events";

export interface SecondFactorInput {
  code?: string | undefined;
  recoveryCode?: string | undefined;
}

export type SecondFactorResult =
  | { ok: true; method: "totp"; factorId: string }
  | { ok: true; method: "recovery_code" }
  | { ok: false };

/** Counts one MFA check against the per-IP and per-user limits (every check counts); 429 when over. */
export async function consumeMfaLimits(c: AppContext, userId: string): Promise<void> {
  const { mfaPerIp, mfaPerUser } = c.var.config.rateLimits;
  await consumeLimits(
    c,
    [
      { rule: mfaPerIp, identifier: await ipIdentifier(c) },
      { rule: mfaPerUser, identifier: userId },
    ],
    userId,
  );
}

/** Opens a factor's TOTP secret (AES-GCM, bound to the factor id). */
export function openTotpSecret(
  c: AppContext,
  factor: { id: string; secretKeyId: string; secretCiphertext: string },
) {
  return c.var.vault.box.open({ keyId: factor.secretKeyId, ciphertext: factor.secretCiphertext }, factor.id);
}

/**
 * Accepts `code` for the factor if it matches a step later than the last accepted one, and
 * records that step atomically. Returns false for a wrong, stale or replayed code.
 */
export async function acceptTotpCode(
  c: AppContext,
  factor: { id: string; secretKeyId: string; secretCiphertext: string },
  code: string,
): Promise<boolean> {
  const step = matchTotpStep(await openTotpSecret(c, factor), code, c.var.now.getTime());
  if (step === null) return false;
  const { db, t } = c.var.db;
  const f = t.userMfaMethods;
  const won = await db
    .update(f)
    .set({ lastUsedStep: step, lastUsedAt: c.var.now })
    .where(and(eq(f.id, factor.id), or(isNull(f.lastUsedStep), lt(f.lastUsedStep, step))))
    .returning({ id: f.id });
  return won.length === 1;
}

/** Spends one unused recovery code of the user; false when it does not exist or is spent. */
export async function spendRecoveryCode(c: AppContext, userId: string, input: string): Promise<boolean> {
  const normalized = normalizeRecoveryCode(input);
  if (!normalized) return false;
  const { db, t } = c.var.db;
  const r = t.userRecoveryCodes;
  const spent = await db
    .update(r)
    .set({ usedAt: c.var.now })
    .where(and(eq(r.userId, userId), eq(r.codeHash, await hashRecoveryCode(normalized)), isNull(r.usedAt)))
    .returning({ id: r.id });
  return spent.length === 1;
}

/**
 * Checks the given second factor against the user's verified factors (read live). Rate limits
 * must have been applied by the caller. Records `mfa.recovery_code_used` when one is spent.
 */
export async function checkSecondFactor(
  c: AppContext,
  userId: string,
  input: SecondFactorInput,
): Promise<SecondFactorResult> {
  const { db, t } = c.var.db;
  if (input.code !== undefined) {
    const f = t.userMfaMethods;
    const factors = await db
      .select({ id: f.id, secretKeyId: f.secretKeyId, secretCiphertext: f.secretCiphertext })
      .from(f)
      .where(and(eq(f.userId, userId), eq(f.status, "verified")));
    for (const factor of factors) {
      if (await acceptTotpCode(c, factor, input.code))
        return { ok: true, method: "totp", factorId: factor.id };
    }
    return { ok: false };
  }
  if (input.recoveryCode !== undefined && (await spendRecoveryCode(c, userId, input.recoveryCode))) {
    await recordSecurityEvent(c, { type: "mfa.recovery_code_used", userId });
    return { ok: true, method: "recovery_code" };
  }
  return { ok: false };
}

/**
 * TOTP factors (RFC 6238): new secrets sealed for storage, and accepting a code at most once.
 * The accepted time step is recorded with a compare-and-set (stores/factors.ts acceptTotpStep),
 * so a code, or any earlier one, is accepted once per factor even by two requests at once.
 */
import type { RequestScope } from "../context";
import { generateTotpSecret, matchTotpStep } from "../lib/totp";
import { acceptTotpStep, isStepSpent, listVerifiedFactorSecrets, type SealedFactor } from "../stores/factors";

/** A fresh secret for factor `id`, and its sealed form (AES-GCM, bound to the factor id). */
export async function newTotpSecret(scope: RequestScope, id: string) {
  const secret = generateTotpSecret();
  const sealed = await scope.vault.box.seal(secret, id);
  return { secret, sealed };
}

/**
 * Accepts `code` for the factor if it matches a step later than the last accepted one, and
 * records that step atomically. False for a wrong, stale or replayed code.
 */
export async function acceptTotpCode(
  scope: RequestScope,
  factor: SealedFactor,
  code: string,
): Promise<boolean> {
  const step = await matchTotpCode(scope, factor, code);
  return step !== null && acceptTotpStep(scope.db, factor.id, step, scope.now);
}

/**
 * The time step `code` matches for the factor, without recording it: null for a wrong code, or
 * for one of a step the factor is known (as read) to have accepted already.
 */
export async function matchTotpCode(
  scope: RequestScope,
  factor: SealedFactor,
  code: string,
): Promise<number | null> {
  const secret = await scope.vault.box.open(
    { keyId: factor.secretKeyId, ciphertext: factor.secretCiphertext },
    factor.id,
  );
  const step = matchTotpStep(secret, code, scope.now.getTime());
  if (step === null || isStepSpent(factor.lastUsedStep, step)) return null;
  return step;
}

/** Accepts `code` for one of the user's verified factors (read live): the factor it matched, or null. */
export async function acceptAnyTotpCode(
  scope: RequestScope,
  userId: string,
  code: string,
): Promise<{ factorId: string } | null> {
  for (const factor of await listVerifiedFactorSecrets(scope.db, userId)) {
    if (await acceptTotpCode(scope, factor, code)) return { factorId: factor.id };
  }
  return null;
}

/**
 * Recovery codes: a set of single-use look-up secrets that stand in for a TOTP factor. Only
 * their hashes are stored (lib/recovery-codes.ts says why SHA-256 is enough); a code is spent
 * with `UPDATE … WHERE used_at IS NULL RETURNING`, so it works once even under races.
 */
import { uuidv7 } from "uuidv7";
import type { RequestScope } from "../context";
import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from "../lib/recovery-codes";
import { type RecoveryCodeInsert, spendRecoveryCode } from "../stores/factors";

/** A fresh set for the user: the plain codes (shown once) and the rows that store their hashes. */
export async function newRecoveryCodeSet(
  userId: string,
  now: Date,
): Promise<{ codes: string[]; rows: RecoveryCodeInsert[] }> {
  const codes = generateRecoveryCodes();
  const rows = await Promise.all(
    codes.map(async (code) => ({
      id: uuidv7(),
      userId,
      codeHash: await hashRecoveryCode(code),
      createdAt: now,
    })),
  );
  return { codes, rows };
}

/**
 * Spends the user's unused code matching `input` (typed loosely: case, spaces, dashes are
 * ignored): an empty proof when spent, null when there is no such unused code.
 */
export async function useRecoveryCode(
  scope: RequestScope,
  userId: string,
  input: string,
): Promise<object | null> {
  const normalized = normalizeRecoveryCode(input);
  if (!normalized) return null;
  return (await spendRecoveryCode(scope.db, userId, await hashRecoveryCode(normalized), scope.now))
    ? {}
    : null;
}

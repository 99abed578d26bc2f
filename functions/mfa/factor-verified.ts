/**
 * What a newly verified factor (a confirmed TOTP factor, a registered passkey) unlocks, written
 * in the batch that verifies it: its event and the owner's notice; for the user's first verified
 * factor also a set of recovery codes (shown once), the current session raised to aal 2 and
 * every other session revoked.
 */
import { and, eq, type SQL, sql } from "drizzle-orm";
import type { Db, Query } from "../../db/database";
import { prepareNotice } from "../auth/mail";
import type { AuthedScope } from "../context";
import { securityEventRow } from "../security-events";
import { noOtherVerifiedFactor, replaceRecoveryCodesWhen } from "../stores/factors";
import { insertOutboxMessageToUser, insertOutboxMessageToUserIf } from "../stores/outbox";
import { insertSecurityEventIf, insertSecurityEvents } from "../stores/security-events";
import { raiseSessionToAal2, revokeOtherSessions } from "../stores/sessions";
import { newRecoveryCodeSet } from "./recovery-codes";

/**
 * Prepares the writes (for the caller's batch, after its user lock) and the codes to show.
 * `writes(db, when)` guards every statement by `when`, for a batch whose confirmation is decided
 * in the batch itself (stores/factors.ts confirmPendingTotp).
 *
 * "First" is decided twice. `first` (the caller's count, read before the batch) says whether to
 * prepare a set of codes; in the batch, under the user's row lock, the set and the session
 * changes are written only while the user has no other verified factor. Of two factors verified
 * at once (a TOTP confirmation beside a passkey registration, both having read a count of zero),
 * only the batch that runs first writes them, and the other shows no codes: `shownCodes` reads
 * from the batch's results whether this set went in.
 */
export async function prepareFactorVerified(scope: AuthedScope, factorId: string, first: boolean) {
  const { t } = scope.db;
  const { userId, sessionId } = scope.auth;
  const { now } = scope;
  const recovery = first ? await newRecoveryCodeSet(userId, now) : null;
  const event = await securityEventRow(scope, {
    type: "mfa.factor_verified",
    userId,
    metadata: { factorId, first },
  });
  const notice = await prepareNotice(scope, userId, "factor_added");
  const writes = (db: Db, when?: SQL): Query[] => {
    const stillFirst = noOtherVerifiedFactor(t, userId, factorId);
    const firstWhen = when ? sql`(${when}) and ${stillFirst}` : stillFirst;
    return [
      ...(when
        ? insertSecurityEventIf(db, t, event, t.users, and(eq(t.users.id, userId), when))
        : insertSecurityEvents(db, t, [event])),
      when
        ? insertOutboxMessageToUserIf(db, t, notice, userId, when)
        : insertOutboxMessageToUser(db, t, notice, userId),
      ...(recovery
        ? [
            ...replaceRecoveryCodesWhen(db, t, userId, recovery.rows, firstWhen),
            // The session that proved the new factor is now aal 2; every other one is revoked.
            raiseSessionToAal2(db, t, sessionId, now, firstWhen),
            revokeOtherSessions(db, t, userId, now, sessionId, firstWhen),
            // Last: whether the set went in, for shownCodes.
            db
              .select({ id: t.userRecoveryCodes.id })
              .from(t.userRecoveryCodes)
              .where(eq(t.userRecoveryCodes.id, recovery.rows[0]!.id)),
          ]
        : []),
    ];
  };
  /** The codes to show, from the results of `writes`' statements: none unless the set was stored. */
  const shownCodes = (written: readonly unknown[]): string[] | undefined =>
    recovery && (written.at(-1) as unknown[] | undefined)?.length ? recovery.codes : undefined;
  return { writes, shownCodes };
}

/**
 * What a newly verified factor (a confirmed TOTP factor, a registered passkey) unlocks, written
 * in the batch that verifies it: its event and the owner's notice; for the user's first verified
 * factor also a set of recovery codes (shown once), the current session raised to aal 2 and
 * every other session revoked.
 */
import { and, eq, type SQL } from "drizzle-orm";
import type { Db, Query } from "../../db/database";
import { prepareNotice } from "../auth/mail";
import type { AuthedScope } from "../context";
import { securityEventRow } from "../security-events";
import { replaceRecoveryCodes, replaceRecoveryCodesWhen } from "../stores/factors";
import { insertOutboxMessageToUser, insertOutboxMessageToUserIf } from "../stores/outbox";
import { insertSecurityEventIf, insertSecurityEvents } from "../stores/security-events";
import { raiseSessionToAal2, revokeOtherSessions } from "../stores/sessions";
import { newRecoveryCodeSet } from "./recovery-codes";

/**
 * Prepares the writes (for the caller's batch, after its user lock) and the codes to show.
 * `writes(db, when)` guards every statement by `when`, for a batch whose confirmation is decided
 * in the batch itself (stores/factors.ts confirmPendingTotp).
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
  const writes = (db: Db, when?: SQL): Query[] => [
    ...(when
      ? insertSecurityEventIf(db, t, event, t.users, and(eq(t.users.id, userId), when))
      : insertSecurityEvents(db, t, [event])),
    when
      ? insertOutboxMessageToUserIf(db, t, notice, userId, when)
      : insertOutboxMessageToUser(db, t, notice, userId),
    ...(recovery
      ? [
          ...(when
            ? replaceRecoveryCodesWhen(db, t, userId, recovery.rows, when)
            : replaceRecoveryCodes(db, t, userId, recovery.rows)),
          // The session that proved the new factor is now aal 2; every other one is revoked.
          raiseSessionToAal2(db, t, sessionId, now, when),
          revokeOtherSessions(db, t, userId, now, sessionId, when),
        ]
      : []),
  ];
  return { writes, recoveryCodes: recovery?.codes };
}

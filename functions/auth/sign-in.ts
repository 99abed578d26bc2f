/**
 * The one place that issues sessions after a password check. Whether a second factor is
 * required is read from the live factor table at that moment (never a cached flag): a user with
 * a verified factor gets a challenge and no session of any kind.
 */
import { and, eq, type SQL } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import type { Db, Query } from "../../db/database";
import type { RequestScope } from "../context";
import { ApiError } from "../http/problems";
import { generateToken, sha256Hex } from "../lib/tokens";
import { type SecurityEventInput, securityEventRow } from "../security-events";
import { challengeIsOpen, consumeChallengeWhen, insertChallenge, lockChallenge } from "../stores/challenges";
import {
  acceptTotpStepWhen,
  isStepSpent,
  lockFactor,
  stepIsUnspent,
  verifiedFactorTypes,
} from "../stores/factors";
import { insertSecurityEventIf, insertSecurityEvents } from "../stores/security-events";
import {
  insertSession,
  insertSessionUnlessFactor,
  insertSessionWhen,
  sessionWasInserted,
} from "../stores/sessions";
import { lockUser, type UserRow, userView } from "../stores/users";
import { prepareSession } from "./sessions";

/**
 * Issues a session and writes it together with `events` and any `alongside` statements (built
 * on the batch's `db`, told the new session's id) in one atomic batch, so a session never
 * exists without its audit trail.
 */
export async function issueSession(
  scope: RequestScope,
  user: UserRow,
  aal: 1 | 2,
  events: SecurityEventInput[],
  alongside: (db: Db, sessionId: string) => Query[] = () => [],
) {
  const { t } = scope.db;
  const { row, session } = await prepareSession(scope, user.id, aal);
  const eventRows = await Promise.all(events.map((e) => securityEventRow(scope, e)));
  await scope.db.atomic((db) => [
    insertSession(db, t, row),
    ...alongside(db, row.id),
    ...insertSecurityEvents(db, t, eventRows),
  ]);
  return { status: "authenticated" as const, session, user: userView(user) };
}

/**
 * The aal-2 session of a login challenge answered with a TOTP code, in ONE batch that also spends
 * the code and the challenge. Under the factor's and then the challenge's row locks (every such
 * batch takes them in that order), the session is inserted only while the challenge is open and
 * the code's step is later than the factor's last accepted one; the step, the consumption and
 * the events are written only if it was. So of requests racing with one challenge or one code,
 * exactly one gets a session, and none writes anything else.
 * Answers the session, `"replayed"` when the step was taken (or the factor removed) meanwhile,
 * a wrong code; or `"closed"` when the challenge was consumed meanwhile or its account is gone.
 */
export async function issueChallengeSession(
  scope: RequestScope,
  user: UserRow,
  challengeId: string,
  match: { factorId: string; step: number },
  events: SecurityEventInput[],
) {
  const { t } = scope.db;
  const { row, session } = await prepareSession(scope, user.id, 2);
  const eventRows = await Promise.all(events.map((e) => securityEventRow(scope, e)));
  const inserted = sessionWasInserted(t, row.id);
  const [factor, , issued] = await scope.db.atomic((db) => [
    lockFactor(db, t, match.factorId),
    lockChallenge(db, t, challengeId),
    insertSessionWhen(
      db,
      t,
      row,
      and(challengeIsOpen(t, challengeId), stepIsUnspent(t, match.factorId, match.step)) as SQL,
    ),
    acceptTotpStepWhen(db, t, match.factorId, match.step, scope.now, inserted),
    consumeChallengeWhen(db, t, challengeId, scope.now, inserted),
    ...eventRows.flatMap((e) =>
      insertSecurityEventIf(db, t, e, t.userSessions, eq(t.userSessions.id, row.id)),
    ),
  ]);
  if (issued.length === 1) return { status: "authenticated" as const, session, user: userView(user) };
  const [locked] = factor;
  const replayed = !locked || isStepSpent(locked.lastUsedStep, match.step);
  return replayed ? ("replayed" as const) : ("closed" as const);
}

/**
 * A password-only session, issued only if the user still has no verified factor at the moment
 * of the insert (same statement), under the user's row lock, so it cannot interleave with the
 * confirmation of a first factor (which revokes every other session under the same lock).
 * Null when a factor appeared meanwhile: the caller answers with a challenge instead.
 */
async function issuePasswordSession(scope: RequestScope, user: UserRow) {
  const { t } = scope.db;
  const { row, session } = await prepareSession(scope, user.id, 1);
  const event = await securityEventRow(scope, {
    type: "auth.login_succeeded",
    userId: user.id,
    metadata: { aal: 1 },
  });
  const [, inserted] = await scope.db.atomic((db) => [
    lockUser(db, t, user.id),
    insertSessionUnlessFactor(db, t, row),
    ...insertSecurityEventIf(db, t, event, t.userSessions, eq(t.userSessions.id, row.id)),
  ]);
  if ((inserted as unknown[]).length === 0) return null;
  return { status: "authenticated" as const, session, user: userView(user) };
}

/**
 * A passwordless sign-in with a passkey (user verification: two factors): an aal-2 session
 * written under the user's row lock, like a password session, with its events.
 */
export async function issuePasskeySession(scope: RequestScope, user: UserRow, factorId: string) {
  const { t } = scope.db;
  const { row, session } = await prepareSession(scope, user.id, 2);
  const inputs: SecurityEventInput[] = [
    {
      type: "auth.mfa_succeeded",
      userId: user.id,
      metadata: { method: "webauthn", flow: "passkey", factorId },
    },
    {
      type: "auth.login_succeeded",
      userId: user.id,
      metadata: { aal: 2, method: "webauthn", passwordless: true },
    },
  ];
  const events = await Promise.all(inputs.map((e) => securityEventRow(scope, e)));
  await scope.db.atomic((db) => [
    lockUser(db, t, user.id),
    insertSession(db, t, row),
    ...insertSecurityEvents(db, t, events),
  ]);
  return { status: "authenticated" as const, session, user: userView(user) };
}

/**
 * After a correct password: a session (no verified factor) or an MFA challenge. `factorTypes`
 * are the user's verified factor types as read with the user (stores/users.ts
 * findUserForSignIn), which saves a round trip; the session insert re-checks them.
 */
export async function completePasswordSignIn(
  scope: RequestScope,
  user: UserRow,
  factorTypes: ReadonlySet<string>,
) {
  let types = factorTypes;
  if (types.size === 0) {
    const issued = await issuePasswordSession(scope, user);
    if (issued) return issued;
    types = await verifiedFactorTypes(scope.db, user.id); // a factor appeared meanwhile
  }
  const { t } = scope.db;
  const token = generateToken();
  const expiresAt = new Date(scope.now.getTime() + scope.config.mfaChallengeTtlMs);
  const tokenHash = await sha256Hex(token);
  const event = await securityEventRow(scope, { type: "auth.mfa_challenge_issued", userId: user.id });
  const challengeId = uuidv7();
  const [inserted] = await scope.db.atomic((db) => [
    insertChallenge(db, t, { id: challengeId, userId: user.id, tokenHash, createdAt: scope.now, expiresAt }),
    ...insertSecurityEventIf(db, t, event, t.mfaChallenges, eq(t.mfaChallenges.id, challengeId)),
  ]);
  // The account was deleted while its password was being checked: no session, no challenge.
  if (inserted.length === 0) throw new ApiError("invalid_credentials");
  return {
    status: "mfa_required" as const,
    challenge: {
      token,
      expiresAt: expiresAt.toISOString(),
      methods: [
        ...(types.has("totp") ? (["totp"] as const) : []),
        ...(types.has("webauthn") ? (["webauthn"] as const) : []),
        "recovery_code" as const,
      ],
    },
  };
}

/**
 * The one second-factor verifier, used by every flow that checks a current second factor: the
 * login challenge, password reset, factor removal and recovery-code regeneration (enrollment
 * checks a new factor's first code through the same gate, verifyTotpAgainst). In order:
 * 1. the attempt is counted on the second-factor limits (per user per 15 minutes and per day,
 *    per network) before anything is checked, failing closed: a limiter that is down answers
 *    503 and nothing is checked; a right factor gives its count back;
 * 2. the given factor is checked and spent, single use under races (TOTP: compare-and-set on the
 *    time step; recovery code: `UPDATE … WHERE used_at IS NULL RETURNING`);
 * 3. a wrong one runs the flow's `onFailure`, is recorded as `auth.mfa_failed` with the flow and
 *    answered 401 invalid_mfa_code.
 *
 * METHODS is the single list of second-factor methods: the body field that carries each, its
 * schema, its check. Bodies, the "exactly one" rule, the input and the proof types derive from
 * it: TOTP codes, recovery codes and passkey assertions (`webauthn`).
 */

import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import { prepareNotice } from "../auth/mail";
import { reserveAttempt, secondFactorChecks } from "../auth/rate-limits";
import { RecoveryCode, TotpCode } from "../auth/schemas";
import type { RequestScope } from "../context";
import { ApiError } from "../http/problems";
import * as z from "../http/zod";
import { recordSecurityEvent, type SecurityEventType, securityEventRow } from "../security-events";
import type { SealedFactor } from "../stores/factors";
import { insertOutboxMessageToUser } from "../stores/outbox";
import { insertSecurityEvents } from "../stores/security-events";
import { useRecoveryCode } from "./recovery-codes";
import { acceptAnyTotpCode, matchTotpCode } from "./totp";
import { AuthenticationResponseSchema, verifyAssertion } from "./webauthn";

interface Method<V> {
  /** The body field that carries it. */
  readonly field: string;
  readonly schema: z.ZodType<V>;
  /** Checks and spends `value` for the user: what it proved, or null when wrong. */
  verify(scope: RequestScope, userId: string, value: V, who: MfaCheck): Promise<object | null>;
  /** Recorded when a check succeeds with this method. */
  readonly usedEvent?: SecurityEventType;
}

/** The methods, in order of preference (a body that gives several is checked with the first). */
const METHODS = {
  totp: { field: "code", schema: TotpCode, verify: acceptAnyTotpCode },
  recovery_code: {
    field: "recoveryCode",
    schema: RecoveryCode,
    verify: useRecoveryCode,
    usedEvent: "mfa.recovery_code_used",
  },
  webauthn: {
    field: "webauthn",
    schema: AuthenticationResponseSchema,
    // An assertion answers the WebAuthn challenge issued for this flow's binding, nothing else.
    verify: (scope: RequestScope, userId: string, value: AuthenticationResponseJSON, who: MfaCheck) =>
      who.webauthnBinding
        ? verifyAssertion(scope, value, { purpose: "authentication", userId, binding: who.webauthnBinding })
        : Promise.resolve(null),
  },
} as const satisfies Record<string, Method<unknown>>;

type Methods = typeof METHODS;
export type SecondFactorMethod = keyof Methods;
type FieldOf<M extends SecondFactorMethod> = Methods[M]["field"];

export const SECOND_FACTOR_METHODS = Object.keys(METHODS) as SecondFactorMethod[];

/** A body's second-factor fields (`{ code?, recoveryCode? }`), each optional. */
export type SecondFactorInput = {
  [M in SecondFactorMethod as FieldOf<M>]?: z.output<Methods[M]["schema"]> | undefined;
};

/** What a successful check proved: the method, and for TOTP which factor. */
export type SecondFactorProof = {
  [M in SecondFactorMethod]: { method: M } & NonNullable<Awaited<ReturnType<Methods[M]["verify"]>>>;
}[SecondFactorMethod];

const FIELDS = SECOND_FACTOR_METHODS.map((m) => METHODS[m].field);
const listed = (words: string[], conjunction: string) =>
  words.length < 3
    ? words.join(` ${conjunction} `)
    : `${words.slice(0, -1).join(", ")} ${conjunction} ${words.at(-1)}`;

const secondFactorFields = Object.fromEntries(
  SECOND_FACTOR_METHODS.map((m) => [METHODS[m].field, METHODS[m].schema.optional()]),
) as { [M in SecondFactorMethod as FieldOf<M>]: z.ZodOptional<Methods[M]["schema"]> };

/** The methods given in `input`, in order of preference. */
function given(input: SecondFactorInput): SecondFactorMethod[] {
  return SECOND_FACTOR_METHODS.filter((m) => input[METHODS[m].field] !== undefined);
}

/** `shape` plus the second-factor fields, exactly one of them given (else 400 invalid_request). */
export function withSecondFactor<S extends z.ZodRawShape>(shape: S) {
  return z
    .object({ ...shape, ...secondFactorFields })
    .refine((body) => given(body as SecondFactorInput).length === 1, {
      message: `give exactly one of ${listed(FIELDS, "and")}`,
      path: FIELDS.slice(0, 1),
    });
}

/** `shape` plus the second-factor fields, none required: the flow decides whether one is needed. */
export function withOptionalSecondFactor<S extends z.ZodRawShape>(shape: S) {
  return z.object({ ...shape, ...secondFactorFields });
}

/** A body that is exactly one second factor. */
export const SecondFactorBody = withSecondFactor({});

/** The flows that check a second factor (the `flow` of `auth.mfa_failed`). */
export type MfaFlow =
  | "login"
  | "reset"
  | "enroll"
  | "remove_factor"
  | "regenerate_recovery_codes"
  | "delete_account";

/** Whose factor is checked, for which flow, and what the flow adds to a failure. */
export interface MfaCheck {
  userId: string;
  flow: MfaFlow;
  /** The tenant of a tenant-scoped request, for the events. */
  tenantId?: string | null;
  /**
   * What a passkey assertion must have been asked for (mfa/webauthn.ts bindings: the login's MFA
   * challenge, the reset token, the session); without one a `webauthn` answer is refused.
   */
  webauthnBinding?: string;
  /** Runs before a wrong factor is recorded and refused (the login challenge counts the failure). */
  onFailure?: () => Promise<void>;
}

/** Limits, then `check`; without a proof: onFailure, `auth.mfa_failed`, 401 invalid_mfa_code. */
async function gate<P>(scope: RequestScope, who: MfaCheck, check: () => Promise<P | null>): Promise<P> {
  const release = await reserveAttempt(
    scope,
    await secondFactorChecks(scope, who.userId),
    who.userId,
    who.tenantId ?? null,
  );
  const proof = await check();
  if (proof !== null) {
    await release();
    return proof;
  }
  await who.onFailure?.();
  await recordSecurityEvent(scope, {
    type: "auth.mfa_failed",
    userId: who.userId,
    tenantId: who.tenantId ?? null,
    metadata: { flow: who.flow },
  });
  throw new ApiError("invalid_mfa_code");
}

/**
 * Verifies a current second factor of `who.userId` (its verified factors and recovery codes,
 * read live), or throws. Given none, the answer is 401 mfa_required, after the limits: an
 * attempt without a factor costs as much as a wrong one, so no flow is cheaper to probe.
 */
export function verifySecondFactor(
  scope: RequestScope,
  who: MfaCheck,
  input: SecondFactorInput,
): Promise<SecondFactorProof> {
  return gate(scope, who, async () => {
    const [method] = given(input);
    if (!method) {
      const fields = listed(
        FIELDS.map((f) => `\`${f}\``),
        "or",
      );
      throw new ApiError("mfa_required", `Give ${fields} with the ${who.flow}.`);
    }
    const { field, verify, usedEvent }: Method<unknown> = METHODS[method];
    const proof = await verify(scope, who.userId, input[field as keyof SecondFactorInput], who);
    if (!proof) return null;
    if (usedEvent) {
      // The event and the owner's notice follow the spend (a batch cannot depend on whether the
      // compare-and-set before it won); lost only if the process dies between the two.
      const { t } = scope.db;
      const event = await securityEventRow(scope, {
        type: usedEvent,
        userId: who.userId,
        tenantId: who.tenantId ?? null,
      });
      const notice = await prepareNotice(scope, who.userId, "recovery_code_used");
      await scope.db.atomic((db) => [
        ...insertSecurityEvents(db, t, [event]),
        insertOutboxMessageToUser(db, t, notice, who.userId),
      ]);
    }
    return { method, ...proof } as SecondFactorProof;
  });
}

/**
 * A TOTP code checked against the user's factors as read beforehand (with the challenge, in one
 * round trip), through the same gate as verifySecondFactor: limits first; a wrong code runs
 * onFailure, is recorded as `auth.mfa_failed` and answered 401 invalid_mfa_code. The code is not
 * spent here: `spend` runs the caller's batch that records its step (compare-and-set under the
 * factor's row lock) together with what the code gates, and answers null when the step was
 * taken meanwhile, which is a wrong (replayed) code.
 */
export function verifyTotpAgainst<R extends object>(
  scope: RequestScope,
  who: MfaCheck,
  factors: readonly SealedFactor[],
  code: string,
  spend: (match: { factorId: string; step: number }) => Promise<R | null>,
): Promise<R> {
  return gate(scope, who, async () => {
    for (const factor of factors) {
      const step = await matchTotpCode(scope, factor, code);
      if (step !== null) return spend({ factorId: factor.id, step });
    }
    return null;
  });
}

/** MFA test helpers: enrollment through the API, codes computed with otpauth from the returned secret. */
import { expect } from "vitest";
import { totpCodeAt } from "../../functions/lib/totp";
import type { SignedUp } from "./fixtures";
import { api, expectStatus, type Harness } from "./harness";

export const STEP_MS = 30_000;

/** A fixed instant at the start of a TOTP step, far from the real now so steps are deterministic. */
export function stepStart(offsetSteps = 0): number {
  const base = Math.floor(Date.now() / STEP_MS) * STEP_MS;
  return base + offsetSteps * STEP_MS;
}

export interface Enrolled {
  factorId: string;
  secret: string;
  recoveryCodes: string[];
}

/** Enrolls and verifies a TOTP factor at the harness clock's current time. */
export async function enrollTotp(h: Harness, user: SignedUp, label = "phone"): Promise<Enrolled> {
  const totp = api(h, user.token).v1.mfa.totp;
  const { factor, secret } = await expectStatus(totp.$post({ json: { label } }), 201);
  const verify = await expectStatus(
    totp[":factorId"].verify.$post({
      param: { factorId: factor.id },
      json: { code: totpCodeAt(secret, h.clock.now()) },
    }),
    200,
  );
  return { factorId: factor.id, secret, recoveryCodes: verify.recoveryCodes ?? [] };
}

/** Logs in with the password and returns the MFA challenge token (asserting no session came back). */
export async function challenge(h: Harness, user: SignedUp): Promise<string> {
  const res = await expectStatus(
    api(h).v1.auth.login.$post({ json: { email: user.email, password: user.password } }),
    200,
  );
  expect(res.status).toBe("mfa_required");
  if (res.status !== "mfa_required") throw new Error("expected an MFA challenge");
  return res.challenge.token;
}

export function codeAt(secret: string, ms: number): string {
  return totpCodeAt(secret, ms);
}

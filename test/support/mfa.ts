/** MFA test helpers: enrollment through the API, codes computed with otpauth from the returned secret. */
import { expect } from "vitest";
import { totpCodeAt } from "../../functions/lib/totp";
import type { SignedUp } from "./fixtures";
import { call, type Harness } from "./harness";

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
  const start = await call(h, "POST", "/v1/mfa/totp", { token: user.token, json: { label } });
  expect(start.status, JSON.stringify(start.body)).toBe(201);
  const { factor, secret } = start.body;
  const verify = await call(h, "POST", `/v1/mfa/totp/${factor.id}/verify`, {
    token: user.token,
    json: { code: totpCodeAt(secret, h.clock.now()) },
  });
  expect(verify.status, JSON.stringify(verify.body)).toBe(200);
  return { factorId: factor.id, secret, recoveryCodes: verify.body.recoveryCodes ?? [] };
}

/** Logs in with the password and returns the MFA challenge token (asserting no session came back). */
export async function challenge(h: Harness, user: SignedUp): Promise<string> {
  const res = await call(h, "POST", "/v1/auth/login", {
    json: { email: user.email, password: user.password },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.status).toBe("mfa_required");
  return res.body.challenge.token;
}

export function codeAt(secret: string, ms: number): string {
  return totpCodeAt(secret, ms);
}

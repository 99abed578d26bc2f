/**
 * Preparing benchmark data through the HTTP API only (as a client would): accounts, sessions and
 * verified TOTP factors.
 */
import { totpCodeAt, totpStepAt } from "../../functions/lib/totp";

export const BENCH_PASSWORD = "bench correct horse battery staple";
const STEP_MS = 30_000;

// biome-ignore lint/suspicious/noExplicitAny: answers of many shapes, checked by status.
export type Answer = { status: number; body: any };

/** One request; throws unless the status is `expect`. */
export async function api(
  base: string,
  method: string,
  path: string,
  opts: { json?: unknown; token?: string; expect?: number } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (opts.json !== undefined) headers["content-type"] = "application/json";
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(base + path, {
    method,
    headers,
    ...(opts.json !== undefined ? { body: JSON.stringify(opts.json) } : {}),
  });
  const text = await res.text();
  const body = text ? JSON.parse(text) : null;
  if (opts.expect !== undefined && res.status !== opts.expect) {
    throw new Error(`${method} ${path}: expected ${opts.expect}, got ${res.status} ${text.slice(0, 200)}`);
  }
  return { status: res.status, body };
}

/** Runs `work` over `items` with at most `concurrency` in flight, keeping the order of results. */
export async function mapLimit<T, R>(items: T[], concurrency: number, work: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

export interface BenchUser {
  email: string;
  token: string;
  userId: string;
}

/** Registers and logs in a fresh account (aal 1 session). */
export async function signUp(base: string, tag: string): Promise<BenchUser> {
  const email = `${tag}-${crypto.randomUUID()}@bench.test`;
  const reg = await api(base, "POST", "/v1/auth/register", {
    json: { email, password: BENCH_PASSWORD },
    expect: 201,
  });
  const login = await api(base, "POST", "/v1/auth/login", {
    json: { email, password: BENCH_PASSWORD },
    expect: 200,
  });
  return { email, token: login.body.session.token, userId: reg.body.user.id };
}

export interface MfaUser extends BenchUser {
  secret: string;
  /** The last TOTP step the server accepted for the factor (replay guard: the next must be later). */
  lastStep: number;
  /** The current login's challenge token, if any. */
  challenge?: string;
}

/** Signs up and enrolls a verified TOTP factor (the enrollment uses one MFA check of the user's 10). */
export async function signUpWithTotp(base: string, tag: string): Promise<MfaUser> {
  const user = await signUp(base, tag);
  const start = await api(base, "POST", "/v1/mfa/totp", {
    token: user.token,
    json: { label: "bench" },
    expect: 201,
  });
  const step = totpStepAt(Date.now());
  await api(base, "POST", `/v1/mfa/totp/${start.body.factor.id}/verify`, {
    token: user.token,
    json: { code: totpCodeAt(start.body.secret, step * STEP_MS) },
    expect: 200,
  });
  return { ...user, secret: start.body.secret, lastStep: step };
}

/**
 * The next code `user` may log in with, or null when none is acceptable yet: a step after the
 * last accepted one, and within the ±1 step window the server allows around now.
 */
export function nextCode(user: MfaUser, nowMs = Date.now()): { code: string; step: number } | null {
  const step = Math.max(user.lastStep + 1, totpStepAt(nowMs));
  if (step > totpStepAt(nowMs) + 1) return null;
  return { code: totpCodeAt(user.secret, step * STEP_MS), step };
}

/** Milliseconds until every user has a usable next code (0 when they all do). */
export function waitForCodes(users: MfaUser[], nowMs = Date.now()): number {
  const needed = Math.max(...users.map((u) => u.lastStep)); // step lastStep+1 needs now ≥ lastStep
  const current = totpStepAt(nowMs);
  return current >= needed ? 0 : needed * STEP_MS - nowMs + 50;
}

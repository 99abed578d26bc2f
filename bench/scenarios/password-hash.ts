/**
 * The password hash alone (functions/lib/password.ts with its default parameters), measured in
 * the bench process while the server is idle: what one hash costs, and how many the machine can
 * do per second with every core busy (scrypt runs on libuv's thread pool). Compared with the
 * password step's throughput this gives the hash's share of a login.
 */
import { DEFAULT_PASSWORD_HASH, hashPassword, verifyPassword } from "../../functions/lib/password";
import { type Percentiles, percentiles } from "../lib/load";

export interface PasswordHashResults {
  params: string;
  hashMs: Percentiles;
  verifyMs: Percentiles;
  /** Verifications per second with `parallel` in flight. */
  verifyPerS: number;
  parallel: number;
}

async function timed(times: number, work: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await work();
    samples.push(performance.now() - t0);
  }
  return samples;
}

export async function passwordHashScenario(serial = 10, parallel = 16): Promise<PasswordHashResults> {
  const password = "bench correct horse battery staple";
  const stored = await hashPassword(password); // warm-up, and the hash to verify against
  const hashMs = percentiles(await timed(serial, () => hashPassword(password)));
  const verifyMs = percentiles(await timed(serial, () => verifyPassword(password, stored)));
  const t0 = performance.now();
  await Promise.all(Array.from({ length: parallel }, () => verifyPassword(password, stored)));
  const verifyPerS = Math.round((parallel / ((performance.now() - t0) / 1000)) * 10) / 10;
  return { params: JSON.stringify(DEFAULT_PASSWORD_HASH), hashMs, verifyMs, verifyPerS, parallel };
}

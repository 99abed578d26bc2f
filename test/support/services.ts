/**
 * Tests that need an outside service (Redis, Postgres) skip on a laptop without it, but must never
 * silently skip in CI, where a missing service means a broken pipeline.
 */

function inCi(): boolean {
  return process.env.CI === "true";
}

/**
 * Says whether tests needing `name` should run. Throws (clear message) in CI when the service is
 * missing; elsewhere logs "SKIPPED: <name> not reachable" and returns false. Call it in beforeAll.
 */
export function requireService(name: string, available: boolean): boolean {
  if (available) return true;
  if (inCi()) {
    throw new Error(`${name} not reachable, and CI=true requires it: start the service or fix its URL`);
  }
  console.warn(`SKIPPED: ${name} not reachable`);
  return false;
}

/**
 * For `describe.skipIf(...)`: true (skip) only outside CI when the service is missing. In CI it is
 * false, so the suite runs and its beforeAll(requireService) fails loudly instead of skipping.
 */
export function skipWithout(name: string, available: boolean): boolean {
  return !inCi() && !requireService(name, available);
}

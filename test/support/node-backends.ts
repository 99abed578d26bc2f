/**
 * Runs a route suite on every Node backend (libSQL, Postgres through the Neon driver, Postgres
 * through pg). Postgres missing: a failure in CI, a plain "SKIPPED" line on a laptop.
 */
import { afterAll, afterEach, beforeAll, describe, expect } from "vitest";
import {
  type Backend,
  NODE_BACKENDS,
  onPostgres,
  openNodeBackend,
  PG_HOST,
  PG_PORT,
  tcpReachable,
} from "./backends";
import { type Harness, type HarnessOptions, makeHarness } from "./harness";
import { skipWithout } from "./services";

const postgresUp = await tcpReachable(PG_HOST, PG_PORT);

export type Suite = (h: () => Harness, backend: () => Backend) => void;

export function onNodeBackends(
  suite: Suite,
  opts: Omit<HarnessOptions, "backend" | "open"> = {},
  backends = NODE_BACKENDS,
): void {
  for (const name of backends) {
    describe.skipIf(onPostgres(name) && skipWithout("Postgres", postgresUp))(`[${name}]`, () => {
      let backend: Backend;
      let harness: Harness;
      beforeAll(async () => {
        backend = await openNodeBackend(name);
        harness = makeHarness({ ...opts, backend: name, open: backend.open });
      });
      afterAll(async () => {
        await backend?.close();
      });
      // Every status the suite saw must be declared for its operation in the OpenAPI document.
      afterEach(() => {
        expect(harness?.undeclared.splice(0) ?? []).toEqual([]);
      });
      suite(
        () => harness,
        () => backend,
      );
    });
  }
}

/** Runs a route suite inside workerd on the D1 binding. */
import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect } from "vitest";
import { d1Database } from "../../db/dialect";
import { type Harness, type HarnessOptions, makeHarness } from "../support/harness";

export function onD1(
  suite: (h: () => Harness) => void,
  opts: Omit<HarnessOptions, "backend" | "open"> = {},
): void {
  describe("[d1]", () => {
    let harness: Harness;
    beforeAll(() => {
      harness = makeHarness({ ...opts, backend: "d1", open: () => d1Database(env.DB) });
    });
    // Every status the suite saw must be declared for its operation in the OpenAPI document.
    afterEach(() => {
      expect(harness?.undeclared.splice(0) ?? []).toEqual([]);
    });
    suite(() => harness);
  });
}

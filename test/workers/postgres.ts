/**
 * Runs a route suite inside workerd on Postgres, through the Worker's own database code
 * (functions/platform/worker-database.ts, workerDatabase), which reaches Postgres over Neon's
 * SQL-over-HTTP protocol (db/neon-http.ts), here the stand-in the Node side started
 * (test/support/workers-postgres.ts): [neon-http], each suite in a scratch database of its own.
 */
import { afterAll, afterEach, beforeAll, describe, expect, inject } from "vitest";
import { workerDatabase } from "../../functions/platform/worker-database";
import { type Harness, type HarnessOptions, makeHarness, type WireTotals } from "../support/harness";
import type { WorkersPostgres } from "../support/workers-postgres";

export type PostgresPath = "neon-http";
export const POSTGRES_PATHS: PostgresPath[] = ["neon-http"];

/** What the Node side provides; null when Postgres is not there (a failure in CI, at setup). */
export const workersPostgres: WorkersPostgres | null = inject("workersPostgres");

export interface ScratchDatabase {
  name: string;
  url: string;
  /** What the stand-in saw of this database so far. */
  wire(): Promise<WireTotals>;
  drop(): Promise<void>;
}

/** A fresh database with the committed migrations (a copy of the Node side's template). */
export async function scratchDatabase(p: WorkersPostgres): Promise<ScratchDatabase> {
  const res = await fetch(`${p.controlUrl}/databases`, { method: "POST" });
  if (res.status !== 201) throw new Error(`scratch database: ${res.status} ${await res.text()}`);
  const { name, url } = (await res.json()) as { name: string; url: string };
  return {
    name,
    url,
    wire: async () => {
      const r = await fetch(`${p.controlUrl}/wire/${name}`);
      if (!r.ok) throw new Error(`wire totals: ${r.status}`);
      return (await r.json()) as WireTotals;
    },
    drop: async () => {
      await (await fetch(`${p.controlUrl}/databases/${name}`, { method: "DELETE" })).body?.cancel();
    },
  };
}

export function onPostgres(
  suite: (h: () => Harness) => void,
  opts: Omit<HarnessOptions, "backend" | "open" | "wire"> = {},
): void {
  for (const path of POSTGRES_PATHS) {
    describe.skipIf(!workersPostgres)(`[${path}]`, () => {
      let harness: Harness;
      let scratch: ScratchDatabase | undefined;
      beforeAll(async () => {
        const p = workersPostgres!;
        scratch = await scratchDatabase(p);
        const open = workerDatabase({
          DATABASE_URL: scratch.url,
          DATABASE_HTTP_ENDPOINT: p.sqlEndpoint,
        });
        harness = makeHarness({ ...opts, backend: path, open, wire: scratch.wire });
      });
      afterAll(async () => {
        await scratch?.drop();
      });
      // Every status the suite saw must be declared for its operation in the OpenAPI document.
      afterEach(() => {
        expect(harness?.undeclared.splice(0) ?? []).toEqual([]);
      });
      suite(() => harness);
    });
  }
}

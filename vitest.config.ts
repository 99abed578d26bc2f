import { randomBytes } from "node:crypto";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Two projects run by `npm test`:
// - "node": unit tests, and every route suite on libSQL and on Postgres (Neon driver over a
//   WebSocket relay), plus Redis-backed rate-limit tests;
// - "workers": the same route suites inside workerd on D1 (migrations applied in setup) and on
//   Postgres through Neon's HTTP and WebSocket paths (test/support/workers-postgres.ts).
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations/sqlite"));
  return {
    test: {
      projects: [
        {
          test: {
            name: "node",
            include: ["test/unit/**/*.test.ts", "test/node/**/*.test.ts", "functions/**/*.test.ts"],
            environment: "node",
            testTimeout: 30_000,
            hookTimeout: 60_000,
          },
        },
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              // Test-only secrets, fresh each run, so the real Workers entry (functions/index.ts) can start.
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  IP_HASH_KEY: randomBytes(32).toString("base64"),
                  ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
                },
              },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/workers/**/*.test.ts"],
            setupFiles: ["test/workers/apply-migrations.ts"],
            // Node side of the Postgres runs: the relay, Neon's HTTP stand-in, scratch databases.
            globalSetup: ["test/support/workers-postgres.ts"],
            testTimeout: 30_000,
          },
        },
      ],
    },
  };
});

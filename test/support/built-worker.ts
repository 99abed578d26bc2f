/**
 * Runs a built Worker bundle (`npm run build` → dist/index.js, or any wrangler dry-run output)
 * as it ships: one ES module in workerd through Miniflare, with wrangler.toml's compatibility
 * date and flags, a fresh in-memory D1 database as `DB` and test secrets. The workers test
 * project runs the source through Vite instead, so only this sees what wrangler's bundling
 * changes (its `[alias]` entries, `keep_names = false`, tree shaking).
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { readD1Migrations } from "@cloudflare/vitest-plugin";
import { Miniflare } from "miniflare";
import { unstable_readConfig } from "wrangler";
import { REPO_ROOT } from "./server-process";

export interface BuiltWorker {
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Runs SQL on the Worker's D1 database (test setup only). */
  sql(query: string, ...params: unknown[]): Promise<void>;
  dispose(): Promise<void>;
}

const secret = () => randomBytes(32).toString("base64");

/** Starts workerd with `bundle` (resolves once workerd is listening, script loaded). */
export async function startBuiltWorker(
  bundle: string,
  opts: { migrate?: boolean; vars?: Record<string, string> } = {},
): Promise<BuiltWorker> {
  const config = unstable_readConfig({ config: join(REPO_ROOT, "wrangler.toml") }, { hideWarnings: true });
  // wrangler.toml's [vars] (strings or JSON), then the test secrets and the caller's overrides.
  const vars = { ...config.vars, IP_HASH_KEY: secret(), ENCRYPTION_KEYS: `k1:${secret()}`, ...opts.vars };
  const bindings = Object.entries(vars).map(([name, value]) =>
    typeof value === "string"
      ? [name, { type: "text" as const, value }]
      : [name, { type: "json" as const, value }],
  );
  // Miniflare 5's own option shape (one worker: a manifest of modules and typed `env` bindings).
  const mainModule = basename(bundle);
  const mf = new Miniflare({
    workers: [
      {
        config: {
          name: "built-worker",
          compatibilityDate: config.compatibility_date ?? "",
          compatibilityFlags: config.compatibility_flags,
          manifest: {
            mainModule,
            modulesRoot: dirname(bundle),
            modules: { [mainModule]: { type: "esm", contents: await readFile(bundle, "utf8") } },
          },
          env: {
            ...Object.fromEntries(bindings),
            DB: { type: "d1", id: "00000000-0000-4000-8000-000000000000" },
          },
        },
      },
    ],
  });
  await mf.ready;
  const db = await mf.getD1Database("DB");
  if (opts.migrate) {
    for (const migration of await readD1Migrations(join(REPO_ROOT, "migrations/sqlite"))) {
      for (const query of migration.queries) await db.prepare(query).run();
    }
  }
  return {
    fetch: async (path, init) => (await mf.dispatchFetch(`http://127.0.0.1${path}`, init as never)) as never,
    sql: async (query, ...params) => {
      await db
        .prepare(query)
        .bind(...params)
        .run();
    },
    dispose: () => mf.dispose(),
  };
}

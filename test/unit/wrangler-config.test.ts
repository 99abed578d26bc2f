/**
 * What each wrangler.toml environment ships, read with wrangler's own config reader (the one
 * `wrangler deploy` and `wrangler dev` use, so environment inheritance is wrangler's, not ours).
 * The top level is what a bare `wrangler deploy` uploads, under the production Worker name: it
 * must never be the development environment, which mounts /v1/dev/outbox (reset tokens).
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { loadConfig } from "../../functions/config";
import { migrateArgs, wranglerDevArgs } from "../../scripts/dev-args.mjs";
import { DOCS_ASSET_FILES, OPENAPI_DOCUMENT_PATH } from "../../scripts/docs-assets.mjs";

const root = join(import.meta.dirname, "../..");
const configPath = join(root, "wrangler.toml");
const read = (env?: string) => unstable_readConfig({ config: configPath, env }, { hideWarnings: true });
// Test-only secrets so loadConfig can parse the variables a config ships.
const SECRETS = { IP_HASH_KEY: "x".repeat(32), ENCRYPTION_KEYS: "k1:AAAA" };

/** The workerd that `from` (a package entry point) runs, through its own miniflare. */
function workerdOf(from: string): { version: string; compatibilityDate: string } {
  const miniflare = createRequire(from).resolve("miniflare");
  return createRequire(miniflare)("workerd");
}

describe("wrangler.toml", () => {
  it("top level (a bare `wrangler deploy`) is not the development environment", () => {
    const top = read();
    expect(top.vars.APP_ENV).not.toBe("development");
    // Absent or explicit, it must resolve to production, the config default.
    expect(loadConfig({ ...SECRETS, ...top.vars }).appEnv).toBe("production");
  });

  it("only the development environment sets APP_ENV=development, on the local D1 database", () => {
    const dev = read("development");
    expect(dev.vars.APP_ENV).toBe("development");
    // The same binding, database id and migrations as the top level, so `npm run dev` and the
    // workers tests share one local D1 layout and `d1 migrations apply --env development` works.
    const top = read();
    expect(dev.d1_databases).toEqual(top.d1_databases);
    expect(dev.d1_databases[0]).toMatchObject({ binding: "DB", migrations_dir: "migrations/sqlite" });
    // Never reachable if someone deploys it by mistake: no workers.dev URL, no preview URLs, no routes.
    expect(dev.workers_dev).toBe(false);
    expect(dev.preview_urls).toBe(false);
    expect(dev.routes ?? []).toEqual([]);
    for (const env of ["preview", "production"]) expect(read(env).vars.APP_ENV).toBe(env);
  });

  it("`npm run dev` selects the development environment for migrations and for wrangler dev", () => {
    const environment = ["--env", "development"];
    const follows = (args: string[]) => args.some((a, i) => a === "--env" && args[i + 1] === environment[1]);
    expect(follows(migrateArgs([]))).toBe(true);
    expect(follows(wranglerDevArgs([], {}))).toBe(true);
    expect(migrateArgs([]).slice(0, 5)).toEqual(["d1", "migrations", "apply", "DB", "--local"]);
  });

  it("serves the /docs page's files and the OpenAPI document as static assets in every environment, the Worker first elsewhere", () => {
    for (const env of [undefined, "development", "preview", "production"]) {
      const config = read(env);
      expect(config.assets?.directory, String(env)).toBe("./public");
      // Every path but the assets runs the Worker: no file under public/ can shadow a route.
      expect(config.assets?.run_worker_first, String(env)).toEqual([
        "/*",
        ...DOCS_ASSET_FILES.map((name) => `!/docs/assets/${name}`),
        `!${OPENAPI_DOCUMENT_PATH}`,
      ]);
      // The bundle has no document generator: the document must come from the assets.
      expect(config.alias?.["@hono/zod-openapi"], String(env)).toBe("./functions/platform/worker-openapi.ts");
      expect(config.build.command, String(env)).toBe("node scripts/docs-assets.mjs");
    }
  });

  it("has a compatibility date every workerd here supports (dev and deploy, and the workers tests)", () => {
    // A date later than a workerd's own is refused or clamped by it, so the tests would not run
    // what ships. wrangler and @cloudflare/vitest-plugin each bring their own miniflare.
    const runtimes = ["wrangler", "@cloudflare/vitest-plugin"].map((pkg) =>
      workerdOf(import.meta.resolve(pkg)),
    );
    const date = read().compatibility_date ?? "";
    expect(date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const workerd of runtimes) expect(date <= workerd.compatibilityDate, workerd.version).toBe(true);
    // The usage Worker (wrangler.usage.toml) runs the same code: the same date.
    const usage = unstable_readConfig({ config: join(root, "wrangler.usage.toml") }, { hideWarnings: true });
    expect(usage.compatibility_date).toBe(date);
  });
});

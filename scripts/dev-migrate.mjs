#!/usr/bin/env node
// Applies the migrations to the local D1 database `npm run dev` serves, without a prompt.
// Run by scripts/dev.mjs; alone: `node scripts/dev-migrate.mjs [--persist-to DIR]`.
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { MIGRATE_STDIO, migrateArgs } from "./dev-args.mjs";
import { WRANGLER_CLI } from "./wrangler-cli.mjs";

export const wranglerEnv = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};

/** Returns the exit status of `wrangler d1 migrations apply` (0 when applied or nothing to do). */
export function applyDevMigrations(userArgs) {
  const run = spawnSync(process.execPath, [WRANGLER_CLI, ...migrateArgs(userArgs)], {
    env: wranglerEnv,
    stdio: MIGRATE_STDIO,
  });
  return run.status ?? 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exit(applyDevMigrations(process.argv.slice(2)));
}

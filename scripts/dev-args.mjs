// Argument handling for `npm run dev` (scripts/dev.mjs), kept apart so it is unit-tested.

/** The value of `--name value` or `--name=value` in args (the last one wins, as in yargs). */
export function optionValue(args, name) {
  let value;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === name && i + 1 < args.length) value = args[++i];
    else if (arg.startsWith(`${name}=`)) value = arg.slice(name.length + 1);
  }
  return value;
}

const has = (args, name) => args.some((a) => a === name || a.startsWith(`${name}=`));

/**
 * `wrangler dev` arguments: the development environment, then the address. The user's own
 * `--ip`/`--port` (after `npm run dev --`) win; else HOST and PORT from the environment; else
 * 127.0.0.1:8787. Wrangler refuses a repeated `--port`, so a default is added only when absent.
 */
export function wranglerDevArgs(userArgs, env) {
  const address = [];
  if (!has(userArgs, "--ip")) address.push("--ip", env.HOST || "127.0.0.1");
  if (!has(userArgs, "--port")) address.push("--port", env.PORT || "8787");
  return ["dev", "--env", "development", ...address, ...userArgs];
}

/**
 * `wrangler d1 migrations apply` arguments for the database `wrangler dev` will serve: the same
 * environment, and the same `--persist-to` when the user moved the local state.
 */
export function migrateArgs(userArgs) {
  const persistTo = optionValue(userArgs, "--persist-to");
  return [
    "d1",
    "migrations",
    "apply",
    "DB",
    "--local",
    "--env",
    "development",
    ...(persistTo ? ["--persist-to", persistTo] : []),
  ];
}

/**
 * The migration step's stdio. Wrangler asks "(Y/n)" before applying migrations when stdin and
 * stdout are a TTY (its isNonInteractiveOrCI() in src/is-interactive.ts); with stdin not a TTY it
 * takes the fallback answer, yes, and says so. Output stays on the terminal.
 */
export const MIGRATE_STDIO = ["ignore", "inherit", "inherit"];

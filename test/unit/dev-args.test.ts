/** `npm run dev`'s arguments (scripts/dev-args.mjs): the user's address wins, migrations never prompt. */
import { describe, expect, it } from "vitest";
import { MIGRATE_STDIO, migrateArgs, optionValue, wranglerDevArgs } from "../../scripts/dev-args.mjs";

/** The values of every `--name` in args, both spellings, in order. */
const all = (args: string[], name: string) =>
  args.flatMap((a, i) =>
    a === name ? [args[i + 1]] : a.startsWith(`${name}=`) ? [a.slice(name.length + 1)] : [],
  );

describe("wranglerDevArgs", () => {
  it("defaults to the development environment on 127.0.0.1:8787", () => {
    const args = wranglerDevArgs([], {});
    expect(args.slice(0, 3)).toEqual(["dev", "--env", "development"]);
    expect(all(args, "--ip")).toEqual(["127.0.0.1"]);
    expect(all(args, "--port")).toEqual(["8787"]);
  });

  it("takes PORT and HOST from the environment", () => {
    const args = wranglerDevArgs([], { PORT: "9000", HOST: "0.0.0.0" });
    expect(all(args, "--port")).toEqual(["9000"]);
    expect(all(args, "--ip")).toEqual(["0.0.0.0"]);
  });

  it("lets the user's --port and --ip win, in both spellings, and passes the rest through", () => {
    // Wrangler refuses a repeated --port ("--port expects a single value"): exactly one each.
    const spaced = wranglerDevArgs(["--port", "8893", "--ip", "::1", "--log-level", "warn"], {
      PORT: "9000",
    });
    expect(all(spaced, "--port")).toEqual(["8893"]);
    expect(all(spaced, "--ip")).toEqual(["::1"]);
    expect(spaced.slice(-2)).toEqual(["--log-level", "warn"]);
    const joined = wranglerDevArgs(["--port=8893"], { HOST: "0.0.0.0" });
    expect(all(joined, "--port")).toEqual(["8893"]);
    expect(all(joined, "--ip")).toEqual(["0.0.0.0"]);
  });
});

describe("the migration step", () => {
  it("migrates the development environment's local database, where the user persists it", () => {
    expect(migrateArgs([])).toEqual(["d1", "migrations", "apply", "DB", "--local", "--env", "development"]);
    expect(migrateArgs(["--port", "1", "--persist-to=/tmp/x"]).slice(-2)).toEqual(["--persist-to", "/tmp/x"]);
  });

  it("gives wrangler no TTY on stdin, so it cannot stop at its (Y/n) prompt", () => {
    expect(Array.isArray(MIGRATE_STDIO) && MIGRATE_STDIO[0]).toBe("ignore");
  });

  it("reads the last value of an option", () => {
    expect(optionValue(["--a", "1", "--a=2"], "--a")).toBe("2");
    expect(optionValue(["--ab", "1"], "--a")).toBeUndefined();
  });
});

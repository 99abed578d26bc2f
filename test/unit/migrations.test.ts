/**
 * The committed migrations must match the schema: drizzle-kit, run against a copy of each
 * migrations folder, must find nothing to generate. (Fix: `npm run db:generate`, commit.)
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const drizzleKit = join(root, "node_modules/drizzle-kit/bin.cjs");

describe("committed migrations", () => {
  for (const [dialect, folder, schema] of [
    ["postgresql", "pg", "db/schema.pg.ts"],
    ["sqlite", "sqlite", "db/schema.sqlite.ts"],
  ] as const) {
    it(`${folder}: drizzle-kit finds no schema change to generate`, () => {
      const dir = mkdtempSync(join(tmpdir(), "udh-migrations-"));
      try {
        const out = join(dir, folder);
        cpSync(join(root, "migrations", folder), out, { recursive: true });
        const before = readdirSync(out).sort();
        const config = join(dir, "drizzle.config.mjs");
        // drizzle-kit resolves `out` relative to its working directory.
        writeFileSync(
          config,
          `export default ${JSON.stringify({ dialect, schema: join(root, schema), out: `./${folder}` })};`,
        );
        const stdout = execFileSync(process.execPath, [drizzleKit, "generate", `--config=${config}`], {
          cwd: dir,
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        });
        expect(stdout).toContain("No schema changes");
        expect(readdirSync(out).sort()).toEqual(before);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);
  }
});

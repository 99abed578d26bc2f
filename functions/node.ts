/**
 * Node entry for self-hosting: `npm start` runs the built bundle (`npm run build` writes
 * dist/node.mjs); from source: `node --import tsx functions/node.ts`.
 * Embedded default: libSQL in `.data/dev.db` with the SQL rate-limit store, migrated at start.
 * A postgres:// DATABASE_URL goes over plain TCP (`pg`) unless it names a Neon host or
 * DATABASE_DRIVER=neon (platform/database-url.ts), through a pool of DATABASE_POOL_MAX.
 * A request's queued messages are sent in the background after its response; run
 * `npm run outbox:dispatch` (the retries, and what a restart interrupted) and `npm run db:sweep`
 * from a system scheduler, e.g. every minute and every hour.
 */
import { mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { neonConfig } from "@neondatabase/serverless";
import ws from "ws";
import { migrateDatabase } from "../db/migrate";
import { createApp } from "./app";
import { loadConfig } from "./config";
import { nodemailerTransport } from "./mail/smtp-node";
import { databaseDriverFor, databaseOpener } from "./platform/database-url";
import { nodeDocsAssets } from "./platform/docs-assets";
import { mailTransportFor } from "./platform/mail";
import { rateLimiterFactory } from "./platform/rate-limiter";
import { resolveHostNode } from "./platform/resolve-node";

// Node 20 has no global WebSocket; the Neon driver needs one (pg speaks TCP).
neonConfig.webSocketConstructor = ws;

const env = process.env;
const url = env.DATABASE_URL ?? "file:.data/dev.db";
if (url === "file:.data/dev.db") mkdirSync(".data", { recursive: true });

const config = loadConfig(env);
const openDatabase = databaseOpener(url, {
  perRequest: false,
  maxConnections: config.database.poolMax,
  ...(config.database.driver ? { driver: config.database.driver } : {}),
  ...(env.DATABASE_AUTH_TOKEN ? { authToken: env.DATABASE_AUTH_TOKEN } : {}),
});
if (env.MIGRATE_ON_START !== "false") await migrateDatabase(openDatabase());

const mailTransport = mailTransportFor(config, "node", nodemailerTransport);
const app = createApp({
  config,
  database: openDatabase,
  rateLimiter: rateLimiterFactory(config),
  clientIp: (c) => getConnInfo(c).remote.address ?? null,
  docsAssets: nodeDocsAssets(),
  ...(mailTransport ? { mailTransport } : {}),
  resolveHost: resolveHostNode,
});

/**
 * Development only: the passkeys example page (examples/passkeys/), served on the API's own
 * origin (WebAuthn needs the page on an allowed origin; the Worker bundle never holds it).
 */
const EXAMPLE_FILES: Record<string, [file: string, type: string]> = {
  "/examples/passkeys/": ["index.html", "text/html; charset=utf-8"],
  "/examples/passkeys/index.html": ["index.html", "text/html; charset=utf-8"],
  "/examples/passkeys/passkeys.js": ["passkeys.js", "text/javascript; charset=utf-8"],
};
const examplesDir = new URL("../examples/passkeys/", import.meta.url);
const fetch: typeof app.fetch = async (request, ...rest) => {
  const example = config.appEnv === "development" ? EXAMPLE_FILES[new URL(request.url).pathname] : undefined;
  if (!example || request.method !== "GET") return app.fetch(request, ...rest);
  const body = await readFile(new URL(example[0], examplesDir));
  return new Response(body, { headers: { "content-type": example[1], "cache-control": "no-store" } });
};

const port = Number(env.PORT ?? 3000);
const hostname = env.HOST ?? "127.0.0.1";
// The driver, never the URL (it carries the password): says which path a postgres:// URL took.
const databaseDriver = databaseDriverFor(url, config.database.driver);
serve({ fetch, port, hostname }, (info) => {
  console.log(JSON.stringify({ level: "info", msg: "listening", port: info.port, hostname, databaseDriver }));
});

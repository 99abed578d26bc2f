/**
 * `npm run db:migrate`: applies the committed migrations to DATABASE_URL (Postgres through pg or
 * the Neon driver, chosen as the entries choose; libSQL or a `file:` database) with the same
 * code the Node entry and the tests use (db/migrate.ts).
 * Used by scripts/ci/* before a deploy; safe to re-run (drizzle records applied migrations).
 * D1 is migrated with `wrangler d1 migrations apply` instead.
 *
 * For Neon, use the direct (non-pooled) connection string, as Neon advises for schema changes:
 * its pooler (PgBouncer, transaction mode) keeps no session state between transactions.
 */
import { neonConfig } from "@neondatabase/serverless";
import ws from "ws";
import { migrateDatabase } from "../db/migrate";
import { databaseOpener, isPostgresUrl } from "../functions/platform/database-url";

// Node 20 has no global WebSocket; the Neon driver needs one.
neonConfig.webSocketConstructor = ws;

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("db:migrate: set DATABASE_URL (postgres://…, libsql://… or file:…)");
  process.exit(1);
}

// perRequest: the pool is ended by close(), so the process can exit.
const open = databaseOpener(url, {
  perRequest: true,
  driver: process.env.DATABASE_DRIVER, // as the entries: unset, the host decides
  ...(process.env.DATABASE_AUTH_TOKEN ? { authToken: process.env.DATABASE_AUTH_TOKEN } : {}),
});
const database = open();
const started = Date.now();
try {
  await migrateDatabase(database);
  // Never print the URL: it carries the password.
  console.log(
    `db:migrate: ${isPostgresUrl(url) ? "postgres" : "sqlite"} up to date (${Date.now() - started} ms)`,
  );
} catch (error) {
  const { name, code } = error as { name?: string; code?: unknown };
  console.error(`db:migrate: failed (${name ?? "Error"}${typeof code === "string" ? ` ${code}` : ""})`);
  console.error((error as Error).message);
  process.exitCode = 1;
} finally {
  await database.close();
}

/**
 * Applies the committed drizzle-kit migrations (Node only: reads the migrations folder).
 * Used by the Node entry at start-up, `npm run db:migrate`, deploy scripts and the test setup.
 * D1 reads the same SQLite folder through `wrangler d1 migrations apply` (and the Workers test
 * pool through `applyD1Migrations`).
 */
import { fileURLToPath } from "node:url";
import { migrate as migrateLibsql } from "drizzle-orm/libsql/migrator";
import { migrate as migrateNeon } from "drizzle-orm/neon-serverless/migrator";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import type { Database } from "./database";

export const MIGRATIONS_DIR = {
  postgres: fileURLToPath(new URL("../migrations/pg", import.meta.url)),
  sqlite: fileURLToPath(new URL("../migrations/sqlite", import.meta.url)),
};

export async function migrateDatabase(database: Database): Promise<void> {
  const migrationsFolder = MIGRATIONS_DIR[database.dialect];
  if (database.driver === "neon") await migrateNeon(database.db as never, { migrationsFolder });
  else if (database.driver === "pg") await migratePg(database.db as never, { migrationsFolder });
  else if (database.driver === "libsql") await migrateLibsql(database.db as never, { migrationsFolder });
  else if (database.driver === "neon-http")
    // Over HTTP each statement would commit on its own: a failed migration would leave half of it.
    throw new Error("migrate Postgres through the WebSocket (neon) or pg driver, not over HTTP");
  else throw new Error("D1 is migrated with `wrangler d1 migrations apply`");
}

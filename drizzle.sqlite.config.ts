import { defineConfig } from "drizzle-kit";

// SQLite migrations for libSQL (db/migrate.ts) and D1 (`wrangler d1 migrations apply` reads this folder).
export default defineConfig({
  dialect: "sqlite",
  schema: "./db/schema.sqlite.ts",
  out: "./migrations/sqlite",
});

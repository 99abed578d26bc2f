import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes Postgres migrations here; they are applied by db/migrate.ts.
export default defineConfig({
  dialect: "postgresql",
  schema: "./db/schema.pg.ts",
  out: "./migrations/pg",
});

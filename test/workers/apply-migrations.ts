// Applies the committed SQLite migrations to the test D1 database (only those not yet applied).
import { applyD1Migrations, env } from "cloudflare:test";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

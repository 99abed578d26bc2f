// Bindings the Workers test project sees (wrangler.toml's D1 plus the test-only migrations list).
declare namespace Cloudflare {
  interface Env {
    DB: D1Database;
    APP_ENV: string;
    IP_HASH_KEY: string;
    ENCRYPTION_KEYS: string;
    TEST_MIGRATIONS: import("@cloudflare/vitest-plugin").D1Migration[];
  }
}

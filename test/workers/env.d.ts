// Bindings the Workers test project sees (wrangler.toml's D1 plus the test-only migrations list).
declare namespace Cloudflare {
  interface Env {
    DB: D1Database;
    TEST_MIGRATIONS: import("@cloudflare/vitest-pool-workers").D1Migration[];
  }
}

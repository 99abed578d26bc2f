// Types for scripts/wrangler-cli.mjs.
export const WRANGLER_CLI: string;

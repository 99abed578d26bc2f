// Path of wrangler's command-line entry, for spawning it with this process's Node
// (`process.execPath`), as `npm run dev`, `npm run build` and the benchmarks do. Read from its
// package.json's `bin`: wrangler's `exports` no longer lists "./bin/wrangler.js" (4.1xx), so
// `require.resolve("wrangler/bin/wrangler.js")` fails, while "./package.json" stays exported.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const manifest = createRequire(import.meta.url).resolve("wrangler/package.json");
const { bin } = createRequire(import.meta.url)(manifest);

export const WRANGLER_CLI = join(dirname(manifest), bin.wrangler);

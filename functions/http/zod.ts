/**
 * zod for the app's schemas, with `.openapi()` installed: `import * as z from "../http/zod"`.
 *
 * Why not `import { z } from "@hono/zod-openapi"` (or `from "zod"`): that `z` is zod's whole
 * namespace as one value, and a bundler must then keep every export of zod, its 40-odd locales
 * included (≈ 60 % of zod in the Worker bundle). A namespace import of this module is only ever
 * read as `z.string`, `z.object`…, so esbuild keeps just the parts the app uses.
 *
 * The side-effect import puts `.openapi()` on zod's schemas before any schema module runs (an
 * import is evaluated before the body of the module importing it). In the Worker bundle,
 * wrangler.toml aliases @hono/zod-openapi to platform/worker-openapi.ts, which installs the same
 * `.openapi()` without the document generator.
 */
import "@hono/zod-openapi";

export * from "zod";

/**
 * What `@hono/zod-openapi` is in the Worker bundle: wrangler.toml `[alias]` points the package
 * here, for `wrangler deploy` and `wrangler dev` only (Node, Lambda and the tests import the
 * real one). The Worker serves the OpenAPI document as a static asset built with the bundle
 * (public/openapi.json, scripts/openapi-document.ts), so it needs neither the generator
 * (@asteasolutions/zod-to-openapi, openapi3-ts) nor the package's `z`, which would pull every
 * zod locale in (functions/http/zod.ts).
 *
 * The app uses two things from the package at run time, both kept with the same behaviour:
 * - `.openapi()` on zod schemas (functions/http/zod.ts): here it returns the schema itself. The
 *   metadata it records only feeds the document, and validation never reads it, so parsing and
 *   its error messages are those of the same zod schemas.
 * - `OpenAPIHono` (route kernel, pipeline): here plain Hono routing; registering a route in the
 *   document is a no-op. Its router is Hono's TrieRouter alone, not the default SmartRouter that
 *   tries RegExpRouter first and falls back to TrieRouter: the same matches (TrieRouter takes
 *   every path pattern), one router less in the bundle (≈ 1.8 KiB gzip).
 * Nothing else may be imported from the package as a value (types are erased): the build fails
 * on a missing export rather than shipping the generator.
 */
import type { Env, Schema } from "hono";
import { HonoBase, type HonoOptions } from "hono/hono-base";
import { TrieRouter } from "hono/router/trie-router";
import { ZodType } from "zod";

// Typed by @hono/zod-openapi's declaration (overloads this plain function cannot spell out).
(ZodType.prototype as unknown as { openapi: unknown }).openapi = function openapi(this: ZodType) {
  return this;
};

const noDocument = () => {
  throw new Error("the Worker serves its OpenAPI document as a static asset (public/openapi.json)");
};

// biome-ignore lint/complexity/noBannedTypes: Hono's own default for an app without routes.
export class OpenAPIHono<E extends Env = Env, S extends Schema = {}, B extends string = "/"> extends HonoBase<
  E,
  S,
  B
> {
  constructor(options: HonoOptions<E> = {}) {
    super(options);
    this.router = options.router ?? new TrieRouter();
  }
  /** Where the real class collects the document's paths and components: nothing to collect here. */
  readonly openAPIRegistry = { registerPath: () => {}, registerComponent: () => {} };
  getOpenAPIDocument = noDocument;
  getOpenAPI31Document = noDocument;
}

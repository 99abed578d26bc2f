/**
 * An empty module. wrangler.toml `[alias]` maps `reflect-metadata` here in the Worker bundle: it
 * is imported for its side effect (a Reflect.metadata polyfill) only by the attestation
 * certificate code that functions/platform/worker-no-attestation-certs.ts replaces.
 */
export {};

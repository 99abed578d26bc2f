/**
 * The `/docs` page's package files on Node and Lambda: read once from the installed
 * `swagger-ui-dist` (a runtime dependency) and kept in memory. Workers serve the same files as
 * static assets instead (wrangler.toml `[assets]`).
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { DocsAssetName, DocsAssetReader } from "../http/docs-page";

export function nodeDocsAssets(): DocsAssetReader {
  const cache = new Map<DocsAssetName, Promise<Uint8Array | null>>();
  let dir: string | null | undefined;
  return (name) => {
    if (dir === undefined) {
      try {
        dir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
      } catch {
        dir = null; // Not installed (e.g. a bundle shipped without node_modules): the page's assets 404.
      }
    }
    if (dir === null) return Promise.resolve(null);
    const base = dir;
    let file = cache.get(name);
    if (!file) {
      file = readFile(join(base, name)).then(
        (bytes) => new Uint8Array(bytes),
        () => null,
      );
      cache.set(name, file);
    }
    return file;
  };
}

/**
 * The `/docs` reference page: Swagger UI served by the service itself, so it works offline and
 * loads nothing from a CDN. The page and its small initializer are code; the two large files
 * (swagger-ui-bundle.js ≈ 1.7 MB, 450 KiB gzip; swagger-ui.css) come from the `swagger-ui-dist` package:
 * on Workers as static assets (wrangler.toml `[assets]`, copied by scripts/docs-assets.mjs, so
 * they stay out of the Worker bundle), on Node and Lambda read from node_modules
 * (platform/docs-assets.ts) and answered by the pipeline under /docs/assets/.
 */

/** The package files the page needs, with the content type each is served with. */
export const DOCS_ASSETS = {
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui.css": "text/css; charset=utf-8",
} as const;

export type DocsAssetName = keyof typeof DOCS_ASSETS;

/** Reads one of the page's package files (null when it is not there). */
export type DocsAssetReader = (name: DocsAssetName) => Promise<Uint8Array | null>;

export const DOCS_ASSETS_PATH = "/docs/assets";

export function docsPage(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="${DOCS_ASSETS_PATH}/swagger-ui.css">
</head>
<body>
<noscript>This page needs JavaScript. The document itself: <a href="/openapi.json">/openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="${DOCS_ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="${DOCS_ASSETS_PATH}/swagger-initializer.js"></script>
</body>
</html>
`;
}

/** A file, not an inline script, so the page needs no 'unsafe-inline' under a strict CSP. */
export const DOCS_INITIALIZER = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });\n`;

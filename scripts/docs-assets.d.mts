// Types for scripts/docs-assets.mjs.
export const DOCS_ASSET_FILES: string[];
export const DOCS_ASSETS_DIR: string;
export function copyDocsAssets(target?: string): void;
export const OPENAPI_DOCUMENT_PATH: string;
export function writeOpenApiDocument(target?: string): void;

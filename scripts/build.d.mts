// Types for scripts/build.mjs.
import type { Metafile } from "esbuild";
export const BUNDLE_BUDGET_GZIP_BYTES: number;
export const WORKER_METAFILE: string;
/** The wrangler environment the budget applies to ("production"). */
export const BUDGETED_ENV: string;
export function buildWorker(
  dir?: string,
  /** `env`: the wrangler environment to build ("" for the top level); default BUDGETED_ENV. */
  opts?: { quiet?: boolean; env?: string },
): { bundle: string; raw: number; gzip: number; metafile: Metafile };
export function bundleBreakdown(metafile: Metafile): { group: string; bytes: number }[];

// Types for scripts/build.mjs.
import type { Metafile } from "esbuild";
export const BUNDLE_BUDGET_GZIP_BYTES: number;
export const WORKER_METAFILE: string;
export function buildWorker(
  dir?: string,
  opts?: { quiet?: boolean },
): { bundle: string; raw: number; gzip: number; metafile: Metafile };
export function bundleBreakdown(metafile: Metafile): { group: string; bytes: number }[];

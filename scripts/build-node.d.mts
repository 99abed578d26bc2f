// Types for scripts/build-node.mjs.
import type { Metafile } from "esbuild";
export const NODE_ENTRIES: Record<string, string>;
export function buildNode(outdir?: string): Promise<Metafile>;

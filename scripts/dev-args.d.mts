// Types for scripts/dev-args.mjs (plain JavaScript so `npm run dev` needs no loader).
import type { StdioOptions } from "node:child_process";
export function optionValue(args: readonly string[], name: string): string | undefined;
export function wranglerDevArgs(
  userArgs: readonly string[],
  env: Record<string, string | undefined>,
): string[];
export function migrateArgs(userArgs: readonly string[]): string[];
export const MIGRATE_STDIO: StdioOptions;

/**
 * Before/after table of two WAN runs of `npm run bench` (bench/results/wan-<label>.json):
 * `tsx bench/wan-compare.ts bench/results/wan-before.json bench/results/wan-after.json`.
 */
import { readFileSync } from "node:fs";
import { renderComparison, type WanResults } from "./lib/wan-report";

const [beforePath, afterPath] = process.argv.slice(2);
if (!beforePath || !afterPath) {
  console.error("usage: tsx bench/wan-compare.ts <before.json> <after.json>");
  process.exit(2);
}
const read = (path: string) => JSON.parse(readFileSync(path, "utf8")) as WanResults;
console.log(renderComparison(read(beforePath), read(afterPath)));

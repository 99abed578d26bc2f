/** Runs a route suite inside workerd on every Workers backend: D1, and Postgres over Neon's HTTP and WebSocket paths. */
import type { Harness, HarnessOptions } from "../support/harness";
import { onD1 } from "./d1";
import { onPostgres } from "./postgres";

export function onWorkerBackends(
  suite: (h: () => Harness) => void,
  opts: Omit<HarnessOptions, "backend" | "open" | "wire"> = {},
): void {
  onD1(suite, opts);
  onPostgres(suite, opts);
}

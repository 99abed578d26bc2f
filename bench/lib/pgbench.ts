/**
 * The database's own ceiling for a statement: pgbench running it over plain TCP at a given
 * concurrency. The statement is captured from the route's own query code (not retyped), so the
 * comparison is with exactly what `POST /v1/usage` sends.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pool } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-serverless";
import type { Database, Db, Schema } from "../../db/database";
import * as pgSchema from "../../db/schema.pg";
import { type Increment, incrementUsage } from "../../functions/stores/usage";
import { PG_HOST, PG_PORT, PG_USER } from "../../test/support/backends";

export interface CapturedSql {
  text: string;
  params: unknown[];
}

/**
 * The SQL and parameters `incrementUsage` (the route's no-Idempotency-Key path) sends for
 * `increment`: run against a client that records the query and then refuses it.
 */
export async function captureUsageUpsert(increment: Increment): Promise<CapturedSql> {
  let captured: CapturedSql | undefined;
  const refusing = { query: () => Promise.reject(new Error("captured, not sent")) } as unknown as Pool;
  const native = drizzle({
    client: refusing,
    schema: pgSchema,
    logger: { logQuery: (text, params) => (captured = { text, params }) },
  });
  const database = {
    driver: "neon",
    dialect: "postgres",
    db: native as unknown as Db,
    t: pgSchema as unknown as Schema,
  } as Database;
  await incrementUsage(database, increment).catch(() => {});
  if (!captured) throw new Error("incrementUsage sent no statement");
  return captured;
}

/** A SQL literal for a captured parameter. */
function literal(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "number") return String(value);
  return `'${String(value).replaceAll("'", "''")}'`;
}

/**
 * A pgbench script for `sql`: parameters inlined as literals, except those `overrides` replaces
 * by an expression over pgbench variables (which pgbench -M extended sends as parameters).
 */
export function pgbenchScript(sql: CapturedSql, overrides: Record<number, string> = {}, setup = ""): string {
  const text = sql.text.replace(/\$(\d+)/g, (_, n: string) => {
    const i = Number(n) - 1;
    return overrides[i] ?? literal(sql.params[i]);
  });
  return `${setup}${text};\n`;
}

export interface PgbenchResult {
  clients: number;
  durationS: number;
  tps: number;
  latencyAvgMs: number;
  transactions: number;
}

/** Runs pgbench (-M extended, like the driver's unnamed prepared statements) with `script`. */
export function runPgbench(
  database: string,
  script: string,
  clients: number,
  durationS: number,
): PgbenchResult {
  const dir = mkdtempSync(join(tmpdir(), "udh-pgbench-"));
  try {
    const file = join(dir, "script.sql");
    writeFileSync(file, script);
    const args = ["-h", PG_HOST, "-p", String(PG_PORT), "-U", PG_USER, "-n", "-M", "extended"];
    args.push("-c", String(clients), "-j", "2", "-T", String(durationS), "-f", file, database);
    const run = spawnSync("pgbench", args, { encoding: "utf8", timeout: (durationS + 60) * 1000 });
    const out = `${run.stdout}\n${run.stderr}`;
    const number = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
    const tps = number(/tps = ([\d.]+) \(without initial connection time\)/);
    if (run.status !== 0 || Number.isNaN(tps)) throw new Error(`pgbench failed:\n${out}`);
    return {
      clients,
      durationS,
      tps: Math.round(tps * 10) / 10,
      latencyAvgMs: number(/latency average = ([\d.]+) ms/),
      transactions: number(/number of transactions actually processed: (\d+)/),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** pgbench's version line, e.g. "pgbench (PostgreSQL) 15.20". */
export function pgbenchVersion(): string {
  return spawnSync("pgbench", ["--version"], { encoding: "utf8" }).stdout.trim();
}

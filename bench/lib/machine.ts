/** What the numbers were measured on: machine, versions, and how busy the machine already was. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { Redis } from "ioredis";
import { PG_HOST, PG_PORT, PG_USER } from "../../test/support/backends";
import { DEFAULT_REDIS_URL } from "../../test/support/upstash-bridge";
import { pgbenchVersion } from "./pgbench";

export interface Machine {
  nproc: string;
  memory: string;
  cpuModel: string;
  loadAverageAtStart: number[];
  node: string;
  postgres: string;
  pgbench: string;
  redis: string;
  commit: string;
}

const sh = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: "utf8" }).stdout?.trim() ?? "";

async function redisVersion(): Promise<string> {
  const redis = new Redis(DEFAULT_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return /redis_version:(\S+)/.exec(await redis.info("server"))?.[1] ?? "unknown";
  } finally {
    redis.disconnect();
  }
}

/** The short commit checked out in `dir`, marked when tracked files have uncommitted changes (a symlinked node_modules is not one). */
export function gitCommit(dir = "."): string {
  const status = sh("git", ["-C", dir, "status", "--porcelain", "--untracked-files=no"]);
  return `${sh("git", ["-C", dir, "rev-parse", "--short", "HEAD"])}${status ? " (with uncommitted changes)" : ""}`;
}

export async function describeMachine(): Promise<Machine> {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  return {
    nproc: sh("nproc", []),
    memory: sh("free", ["-h"]),
    cpuModel: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? "unknown",
    loadAverageAtStart: loadavg().map((n) => Math.round(n * 100) / 100),
    node: process.version,
    postgres: sh("psql", [
      "-h",
      PG_HOST,
      "-p",
      String(PG_PORT),
      "-U",
      PG_USER,
      "-tAc",
      "show server_version",
      "postgres",
    ]),
    pgbench: pgbenchVersion(),
    redis: await redisVersion(),
    commit: gitCommit(),
  };
}

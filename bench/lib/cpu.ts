/**
 * Where the CPU went during a run: cores used by each watched process (server, sidecar, the
 * bench itself) and by the whole machine, from /proc (Linux only). On a 2-core machine shared
 * with Postgres, Redis and possibly other work, this is what tells a slow app from a busy box.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const TICKS_PER_S = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim() || 100);

/** Processes to account for, by label. */
const watched = new Map<string, number>();

/** Adds a process to the accounting of every later `measureCpu`. */
export function watchProcess(label: string, pid: number): void {
  watched.set(label, pid);
}

function processTicks(pid: number): number {
  try {
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return Number.NaN;
  }
}

function machineTicks(): { busy: number; total: number } {
  try {
    const [, ...rest] = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/);
    const n = rest.map(Number);
    const idle = (n[3] ?? 0) + (n[4] ?? 0); // idle + iowait
    const total = n.slice(0, 8).reduce((a, b) => a + b, 0); // guest time is already in user
    return { busy: total - idle, total };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/** Cores used per label, plus `machine` (all processes, ours included). */
export type CpuCores = Record<string, number>;

/** Runs `work` and reports the cores each watched process and the machine used meanwhile. */
export async function measureCpu<T>(work: () => Promise<T>): Promise<{ result: T; cores: CpuCores }> {
  const before = new Map([...watched].map(([label, pid]) => [label, processTicks(pid)]));
  const machineBefore = machineTicks();
  const t0 = performance.now();
  const result = await work();
  const wallS = (performance.now() - t0) / 1000;
  const round = (n: number) => Math.round(n * 100) / 100;
  const cores: CpuCores = {};
  for (const [label, pid] of watched) {
    cores[label] = round((processTicks(pid) - before.get(label)!) / TICKS_PER_S / wallS);
  }
  const machineAfter = machineTicks();
  const share = (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total);
  // /proc/stat counts all CPUs together: busy share × CPU count = cores in use.
  cores.machine = round(share * Number(spawnSync("nproc", { encoding: "utf8" }).stdout.trim()));
  return { result, cores };
}

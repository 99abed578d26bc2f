/**
 * One bounded autocannon run, summarised: throughput over the run and exact latency percentiles
 * computed from every response (autocannon's own histogram has no p95).
 */
import autocannon from "autocannon";
import { type CpuCores, measureCpu } from "./cpu";

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

export interface LoadResult {
  title: string;
  connections: number;
  /** Responses received (any status). */
  responses: number;
  durationS: number;
  /** Responses per second over the run. */
  rps: number;
  latencyMs: Percentiles;
  /** Responses per HTTP status. */
  status: Record<string, number>;
  /** Connection errors and timeouts. */
  errors: number;
  /** Cores used meanwhile by the server, the sidecar, the bench process and the whole machine. */
  cpuCores: CpuCores;
}

/** Nearest-rank percentiles of `samples` (milliseconds), rounded to 0.1 ms. */
export function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
  const round = (n: number) => Math.round(n * 10) / 10;
  const mean = sorted.reduce((sum, n) => sum + n, 0) / Math.max(1, sorted.length);
  return {
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    mean: round(mean),
    max: round(at(1)),
  };
}

export type LoadOptions = autocannon.Options & { title: string };

/**
 * Runs autocannon with `opts` (give `amount` or `duration`: every run is bounded) and collects
 * each response's latency and the CPU used. Resolves when the run is over.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const { result, cores } = await measureCpu(() => autocannonRun(opts));
  return { ...result, cpuCores: cores };
}

function autocannonRun(opts: LoadOptions): Promise<Omit<LoadResult, "cpuCores">> {
  const latencies: number[] = [];
  const status: Record<string, number> = {};
  return new Promise((resolve, reject) => {
    const instance = autocannon({ timeout: 30, ...opts }, (error, result) => {
      if (error) return reject(error);
      const durationS = (result.finish.getTime() - result.start.getTime()) / 1000;
      resolve({
        title: opts.title,
        connections: opts.connections ?? 10,
        responses: latencies.length,
        durationS: Math.round(durationS * 100) / 100,
        rps: Math.round((latencies.length / durationS) * 10) / 10,
        latencyMs: percentiles(latencies),
        status,
        errors: result.errors,
      });
    });
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      status[statusCode] = (status[statusCode] ?? 0) + 1;
    });
  });
}

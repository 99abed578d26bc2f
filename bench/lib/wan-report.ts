/**
 * WAN mode's Markdown: one run (bench/results/wan-<label>.md), and a before/after comparison of
 * two runs (bench/wan-compare.ts).
 */
import type { LatencyResults, LatencyRun } from "../scenarios/latency";
import type { Machine } from "./machine";
import { table } from "./report";

export interface WanResults {
  startedAt: string;
  totalS: number;
  command: string;
  label: string;
  /** The server script measured, and the commit of its work tree. */
  server: string;
  serverCommit: string;
  settings: Record<string, number>;
  machine: Machine;
  loadAverageAtEnd: number[];
  latency: LatencyResults;
}

const statuses = (s: Record<string, number>) =>
  Object.entries(s)
    .map(([k, v]) => `${k}×${v}`)
    .join(" ");

/** The request-log row of the run's own route with the status most of its requests got. */
function mainRoute(run: LatencyRun) {
  const path = run.endpoint.split(" ")[1];
  return run.perRoute.filter((r) => r.route === path).sort((a, b) => b.requests - a.requests)[0];
}

const dash = (n: number | null | undefined) => (n === null || n === undefined ? "—" : n);

export function renderWanMarkdown(r: WanResults): string {
  const { latency: l, machine: m } = r;
  const rows = l.runs.map((run) => {
    const route = mainRoute(run);
    return [
      run.endpoint,
      run.connections,
      run.requests,
      run.latencyMs.p50,
      run.latencyMs.p95,
      run.latencyMs.p99,
      statuses(run.status),
      dash(route?.statementsPerRequest),
      dash(route?.roundTripsPerRequest),
      dash(route?.limiterRoundTripsPerRequest),
      run.wire ? `${run.wire.db} + ${run.wire.limiter}` : "",
      run.wire ? `${run.wire.dbAfter} + ${run.wire.limiterAfter}` : "",
      run.model ? run.model.roundTripsMs : "",
      run.model ? run.model.restP50Ms : "",
      ["server", "sidecar", "bench", "machine"].map((k) => run.cpuCores[k] ?? "?").join(" / "),
    ];
  });
  return `# WAN bench run ${r.startedAt} (${r.label})

Command: \`${r.command}\` (${r.totalS} s in all), server \`${r.server}\` at commit ${r.serverCommit}.
Settings: ${Object.entries(r.settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")}. One way ${l.delayMs} ms, RTT ${l.rttMs} ms.

Machine: ${m.nproc} CPUs (${m.cpuModel}), load average at start ${m.loadAverageAtStart.join(" / ")}, at end ${r.loadAverageAtEnd.join(" / ")};
Node ${m.node}, PostgreSQL ${m.postgres}, Redis ${m.redis}; bench commit ${m.commit}.

${table(
  [
    "endpoint",
    "conns",
    "requests",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "statuses",
    "statements/req (log)",
    "db round trips/req (log)",
    "limiter round trips/req (log)",
    "wire turns/req: db + limiter",
    "after the response: db + limiter",
    `turns × ${l.rttMs} ms`,
    "p50 − turns × RTT",
  ].concat(["CPU cores: server / sidecar / bench / machine"]),
  rows,
)}

Wire turns are counted by the sidecar at 1 connection and given to the request they happened in
(a turn the response waited for started at least one round trip before the response ended);
"after the response" are the turns of the after-response work (session touch, limiter refund),
which the client does not wait for. "—": the server does not log that number.
Requests per count of turns waited for (db + limiter), 1 connection: ${l.runs
    .filter((run) => run.wire)
    .map(
      (run) =>
        `${run.endpoint} ${Object.entries(run.wire!.distribution)
          .map(([turns, n]) => `${turns} ×${n}`)
          .join(
            ", ",
          )}${run.wire!.unattributed ? ` (${run.wire!.unattributed} turns outside every request)` : ""}`,
    )
    .join(
      "; ",
    )}. Sidecar clock offset ${l.clockOffsetMs} ms (±${Math.round(l.clockSpanMs * 50) / 100}). New connections during these runs: relay ${l.runs.reduce((n, run) => n + (run.wire?.relayConnections ?? 0), 0)}, bridge ${l.runs.reduce((n, run) => n + (run.wire?.bridgeConnections ?? 0), 0)}.
`;
}

const wireTurns = (run: LatencyRun | undefined) => (run?.wire ? run.wire.db + run.wire.limiter : undefined);

/** The turns most requests of a 1-connection run waited for, "db + limiter" (the mean blurs them with overlaps). */
function usualTurns(run: LatencyRun | undefined): string {
  const entries = Object.entries(run?.wire?.distribution ?? {}).sort((a, b) => b[1] - a[1]);
  const [turns, n] = entries[0] ?? [];
  return turns ? `${turns} (${n} of ${run!.requests})` : "—";
}

/** Before/after table: the same endpoints and connection counts from two WAN runs. */
export function renderComparison(before: WanResults, after: WanResults): string {
  const rtt = after.latency.rttMs;
  const find = (r: WanResults, endpoint: string, connections: number) =>
    r.latency.runs.find((x) => x.endpoint === endpoint && x.connections === connections);
  const rows = after.latency.runs.map((a) => {
    const b = find(before, a.endpoint, a.connections);
    const turnsB = wireTurns(find(before, a.endpoint, 1));
    const turnsA = wireTurns(find(after, a.endpoint, 1));
    const saved =
      turnsA !== undefined && turnsB !== undefined ? Math.round((turnsB - turnsA) * 100) / 100 : undefined;
    return [
      a.endpoint,
      a.connections,
      b ? `${b.latencyMs.p50} / ${b.latencyMs.p95}` : "—",
      `${a.latencyMs.p50} / ${a.latencyMs.p95}`,
      b ? Math.round((b.latencyMs.p50 - a.latencyMs.p50) * 10) / 10 : "—",
      usualTurns(find(before, a.endpoint, 1)),
      usualTurns(find(after, a.endpoint, 1)),
      saved === undefined ? "—" : `${Math.round(saved * rtt * 10) / 10} (${saved})`,
    ];
  });
  return table(
    [
      "endpoint",
      "conns",
      "before p50 / p95 ms",
      "after p50 / p95 ms",
      "p50 saved ms",
      "round trips before, db + limiter (requests)",
      "round trips after, db + limiter (requests)",
      `mean round trips saved × ${rtt} ms (saved)`,
    ],
    rows,
  );
}

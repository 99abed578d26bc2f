/** Renders a bench run's results as the Markdown summary (bench/results/latest.md). */
import type { MfaResults } from "../scenarios/mfa";
import type { PasswordHashResults } from "../scenarios/password-hash";
import type { ReadResults } from "../scenarios/reads";
import type { UsageResults } from "../scenarios/usage";
import type { WorkersResults } from "../scenarios/workers";
import type { LoadResult } from "./load";
import type { Machine } from "./machine";
import type { RouteStats } from "./request-log";

export interface BenchResults {
  startedAt: string;
  totalS: number;
  command: string;
  settings: Record<string, number>;
  machine: Machine;
  passwordHash: PasswordHashResults;
  mfa: MfaResults;
  reads: ReadResults;
  usage: UsageResults;
  workers: WorkersResults;
}

export const table = (head: string[], rows: (string | number)[][]) =>
  [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");

const statuses = (s: Record<string, number>) =>
  Object.entries(s)
    .map(([k, v]) => `${k}×${v}`)
    .join(" ");

const loadRow = (label: string, r: LoadResult) => [
  label,
  r.connections,
  r.responses,
  r.rps,
  r.latencyMs.p50,
  r.latencyMs.p95,
  r.latencyMs.p99,
  statuses(r.status),
  ["server", "sidecar", "bench", "machine"].map((k) => r.cpuCores[k] ?? "?").join(" / "),
];
const LOAD_HEAD = [
  "run",
  "conns",
  "responses",
  "req/s",
  "p50 ms",
  "p95 ms",
  "p99 ms",
  "statuses",
  "CPU cores: server / sidecar / bench / machine",
];

const routeRows = (scenario: string, routes: RouteStats[]) =>
  routes.map((r) => [
    scenario,
    `${r.method} ${r.route}`,
    r.status,
    r.requests,
    r.statementsPerRequest,
    r.roundTripsPerRequest ?? "—",
    r.limiterRoundTripsPerRequest ?? "—",
    r.rateLimitCallsPerRequest,
  ]);

export function renderMarkdown(r: BenchResults): string {
  const { mfa, passwordHash: ph, reads, usage, workers, machine: m } = r;
  const hashShare = Math.round((mfa.passwordStep.rps / ph.verifyPerS) * 100);
  return `# Bench run ${r.startedAt}

Command: \`${r.command}\` (${r.totalS} s in all). Settings: ${Object.entries(r.settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")}.

Machine: ${m.nproc} CPUs (${m.cpuModel}), load average at start ${m.loadAverageAtStart.join(" / ")};
Node ${m.node}, PostgreSQL ${m.postgres} (${m.pgbench}), Redis ${m.redis}; commit ${m.commit}.

\`\`\`
${m.memory}
\`\`\`

## MFA login (${mfa.users} users, prepared through the API in ${mfa.prepareS} s)

${table(LOAD_HEAD, [
  loadRow("password step: POST /v1/auth/login", mfa.passwordStep),
  loadRow("TOTP step: POST /v1/auth/mfa/verify", mfa.totpStep),
  loadRow("flow: login → verify (both requests)", mfa.flow),
])}

Whole flow: ${mfa.flow.flows} logins in ${mfa.flow.durationS} s = **${mfa.flow.flowsPerS} logins/s**, per-login latency
p50 ${mfa.flow.flowLatencyMs.p50} ms, p95 ${mfa.flow.flowLatencyMs.p95} ms, p99 ${mfa.flow.flowLatencyMs.p99} ms.

Password hash alone (${ph.params}): hash p50 ${ph.hashMs.p50} ms, verify p50 ${ph.verifyMs.p50} ms one at a time;
${ph.verifyPerS} verifications/s with ${ph.parallel} in flight. The password step reached ${mfa.passwordStep.rps} req/s,
${hashShare} % of that ceiling: the hash is about ${hashShare} % of a password step's cost.

## Reads

${table(LOAD_HEAD, [loadRow("GET /v1/me", reads.me), loadRow("GET /healthz (floor)", reads.healthz)])}

## Usage increments vs pgbench (${usage.connections} connections, ${usage.durationS} s each)

${table(
  ["keys", "HTTP req/s", "p50 ms", "p95 ms", "p99 ms", "pgbench tps", "HTTP / pgbench", "counter = 200s"],
  (["hot", "many"] as const).map((k) => {
    const u = usage[k];
    return [
      k === "hot" ? "one hot key" : "many keys",
      u.http.rps,
      u.http.latencyMs.p50,
      u.http.latencyMs.p95,
      u.http.latencyMs.p99,
      u.pgbench.tps,
      u.ratio,
      `${u.http.counted} = ${u.http.answered200} ${u.http.exact ? "✓" : "✗"}`,
    ];
  }),
)}

The statement (captured from the route's code; pgbench runs it with literals, \`-M extended\`):

\`\`\`sql
${usage.statement}
\`\`\`

## SQL statements, round trips and rate-limit calls per request (from the server's request log)

Round trips are what the response waited for (an atomic batch is one); rate-limit calls include
the refunds sent after the response.

${table(
  [
    "scenario",
    "route",
    "status",
    "requests",
    "statements/req",
    "db round trips/req",
    "limiter round trips/req",
    "rate-limit calls/req",
  ],
  [
    ...routeRows("MFA password step", mfa.passwordStep.perRoute),
    ...routeRows("MFA TOTP step", mfa.totpStep.perRoute),
    ...routeRows("MFA flow", mfa.flow.perRoute),
    ...routeRows("me", reads.me.perRoute),
    ...routeRows("healthz", reads.healthz.perRoute),
    ...routeRows("usage hot", usage.hot.http.perRoute),
    ...routeRows("usage many", usage.many.http.perRoute),
  ],
)}

## Workers

Bundle (\`npm run build\`): ${workers.bundle.rawKiB} KiB raw, **${workers.bundle.gzipKiB} KiB gzip** (budget ${workers.bundle.budgetKiB} KiB${
    workers.bundle.withinBudget ? "" : ", OVER BUDGET"
  }).
\`wrangler dev\` spawn → first /healthz 200 in workerd: **median ${workers.startMs.median} ms** (runs: ${workers.startMs.runs.join(", ")} ms).
`;
}

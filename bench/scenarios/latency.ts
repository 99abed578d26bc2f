/**
 * WAN mode's scenario: latency of GET /v1/me, POST /v1/usage, the login's password step and MFA
 * verify while the sidecar delays every database and rate-limit message by `delayMs` each way,
 * at 1 connection (one request at a time, a pause between them so the previous request's
 * after-response work is over) and at 4 (a little queueing, still far from the CPU's limit).
 *
 * At 1 connection every turn the sidecar saw (test/support/pg-relay.ts, upstash-bridge.ts) is
 * given to a request by time: a turn the response waited for started at least one round trip
 * before the response ended (its answer had to come back first), a turn started after the
 * response was sent belongs to the after-response work. So the round trips come from the wire,
 * whatever the server's own counters say (the "before" server has none), and the model
 * `latency ≈ round trips × RTT + the rest (CPU, local I/O)` can be checked per endpoint.
 */
import {
  api,
  BENCH_PASSWORD,
  type MfaUser,
  mapLimit,
  nextCode,
  signUp,
  signUpWithTotp,
  waitForCodes,
} from "../lib/api";
import { type CpuCores, measureCpu } from "../lib/cpu";
import { type Percentiles, percentiles } from "../lib/load";
import type { RequestLog, RouteStats } from "../lib/request-log";
import type { WireReport } from "../sidecar";

/** Wall-clock ms with sub-ms precision, comparable with the sidecar's turn times. */
const epochMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round1 = (n: number) => Math.round(n * 10) / 10;
const round2 = (n: number) => Math.round(n * 100) / 100;

/** Per request, averaged over a 1-connection run: turns counted by the sidecar. */
export interface WireTurns {
  /** Database turns (relay) the response waited for. */
  db: number;
  /** Rate-limit turns (bridge) the response waited for. */
  limiter: number;
  /** Turns after the response was sent (after-response work: session touch, limiter refund). */
  dbAfter: number;
  limiterAfter: number;
  /** New connections opened to the relay and to the bridge during the run (0 once warm). */
  relayConnections: number;
  bridgeConnections: number;
  /** How many requests had each "db + limiter" count of turns the response waited for. */
  distribution: Record<string, number>;
  /** Turns in no request's window (should be 0: a check on the attribution). */
  unattributed: number;
}

export interface LatencyRun {
  endpoint: string;
  connections: number;
  requests: number;
  durationS: number;
  latencyMs: Percentiles;
  status: Record<string, number>;
  cpuCores: CpuCores;
  /** From the server's request log: statements, round trips (if the server logs them), rate-limit calls. */
  perRoute: RouteStats[];
  /** 1-connection runs only. */
  wire?: WireTurns;
  /** 1-connection runs only: round trips × RTT, and what the p50 has on top of it. */
  model?: { roundTrips: number; roundTripsMs: number; restP50Ms: number };
}

export interface LatencyResults {
  delayMs: number;
  rttMs: number;
  /** The sidecar's clock minus ours, known to within half of `clockSpanMs` (the turn times are corrected by it). */
  clockOffsetMs: number;
  clockSpanMs: number;
  runs: LatencyRun[];
}

export interface LatencySettings {
  /** Requests per 1-connection run of GET /v1/me and POST /v1/usage (4 × as many at 4 connections). */
  requests: number;
  /** Logins (and MFA verifications) per run: each needs a user of its own. */
  users: number;
}

interface Sample {
  start: number;
  end: number;
  status: number;
}

type Send = (i: number) => Promise<number>;

/** `count` requests from `workers` loops, each pausing `gapMs` after every response. */
async function drive(
  count: number,
  workers: number,
  gapMs: number,
  send: Send,
  offset = 0,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  let next = 0;
  const loop = async () => {
    for (let i = next++; i < count; i = next++) {
      const start = epochMs();
      const status = await send(offset + i);
      samples.push({ start, end: epochMs(), status });
      if (gapMs > 0) await sleep(gapMs);
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, count) }, loop));
  return samples.sort((a, b) => a.start - b.start);
}

/**
 * How far the sidecar's clock is ahead of ours. Both processes read one monotonic clock from
 * their own origin (performance.timeOrigin, taken at start-up), so the offset is a constant of the
 * pair, up to milliseconds when a process was preempted while starting. Each probe compares the
 * sidecar's time with the middle of our request to it; the quickest probe so far is the most
 * exact one (a slow answer, on a busy machine, blurs the middle), and it is kept for the run.
 */
function sidecarClock(wireUrl: string) {
  let best = { spanMs: Number.POSITIVE_INFINITY, offsetMs: 0 };
  return {
    async probe(times = 10) {
      for (let i = 0; i < times; i++) {
        const sent = epochMs();
        const { now } = (await (await fetch(`${wireUrl}?clock`)).json()) as { now: number };
        const received = epochMs();
        if (received - sent < best.spanMs)
          best = { spanMs: received - sent, offsetMs: now - (sent + received) / 2 };
      }
    },
    get offsetMs() {
      return best.offsetMs;
    },
    /** The offset is known to within half of this. */
    get spanMs() {
      return best.spanMs;
    },
  };
}

/** The sidecar's counters and turn times (emptying its lists). */
async function readWire(wireUrl: string): Promise<WireReport> {
  return (await (await fetch(wireUrl)).json()) as WireReport;
}

/** Gives each turn to the request it belongs to (see the file's comment); averages per request. */
function attribute(
  samples: Sample[],
  report: WireReport,
  before: WireReport,
  gapMs: number,
  offset: number,
): WireTurns {
  const oneWay = report.delayMs;
  const sums = { db: 0, limiter: 0, dbAfter: 0, limiterAfter: 0 };
  const distribution: Record<string, number> = {};
  const within = (list: number[], from: number, to: number) =>
    list.filter((t) => t - offset >= from && t - offset < to).length;
  samples.forEach((s, i) => {
    const cut = s.end - oneWay;
    const until = Math.min(samples[i + 1]?.start ?? Number.POSITIVE_INFINITY, s.end + gapMs);
    const db = within(report.turnsAt.db, s.start, cut);
    const limiter = within(report.turnsAt.limiter, s.start, cut);
    sums.db += db;
    sums.limiter += limiter;
    sums.dbAfter += within(report.turnsAt.db, cut, until);
    sums.limiterAfter += within(report.turnsAt.limiter, cut, until);
    distribution[`${db} + ${limiter}`] = (distribution[`${db} + ${limiter}`] ?? 0) + 1;
  });
  const n = Math.max(1, samples.length);
  return {
    db: round2(sums.db / n),
    limiter: round2(sums.limiter / n),
    dbAfter: round2(sums.dbAfter / n),
    limiterAfter: round2(sums.limiterAfter / n),
    relayConnections: report.relay.connections - before.relay.connections,
    bridgeConnections: report.bridge.connections - before.bridge.connections,
    distribution,
    unattributed:
      report.turnsAt.db.length +
      report.turnsAt.limiter.length -
      sums.db -
      sums.limiter -
      sums.dbAfter -
      sums.limiterAfter,
  };
}

export async function latencyScenario(
  base: string,
  log: RequestLog,
  wireUrl: string,
  settings: LatencySettings,
  say: (msg: string) => void,
): Promise<LatencyResults> {
  const { delayMs } = await readWire(wireUrl);
  const clock = sidecarClock(wireUrl);
  await clock.probe(50);
  const rttMs = 2 * delayMs;
  // After a response: the session touch or limiter refund it started is over after a few round trips.
  const gapMs = 2 * rttMs + 20;
  const runs: LatencyRun[] = [];

  /** One measured run: warm-up requests (not measured), then `count` requests. */
  const run = async (endpoint: string, connections: number, warm: number, count: number, send: Send) => {
    await drive(warm, connections, connections === 1 ? gapMs : 0, send);
    await sleep(gapMs);
    await log.mark();
    const wireBefore = await readWire(wireUrl);
    const t0 = performance.now();
    const { result: samples, cores } = await measureCpu(() =>
      drive(count, connections, connections === 1 ? gapMs : 0, send, warm),
    );
    const durationS = round2((performance.now() - t0) / 1000);
    await sleep(gapMs);
    const perRoute = await log.mark();
    const wireAfter = await readWire(wireUrl);
    await clock.probe();
    const status: Record<string, number> = {};
    for (const s of samples) status[s.status] = (status[s.status] ?? 0) + 1;
    const latencyMs = percentiles(samples.map((s) => s.end - s.start));
    const result: LatencyRun = {
      endpoint,
      connections,
      requests: samples.length,
      durationS,
      latencyMs,
      status,
      cpuCores: cores,
      perRoute,
    };
    if (connections === 1) {
      const wire = attribute(samples, wireAfter, wireBefore, gapMs, clock.offsetMs);
      const roundTrips = round2(wire.db + wire.limiter);
      const roundTripsMs = round1(roundTrips * rttMs);
      result.wire = wire;
      result.model = { roundTrips, roundTripsMs, restP50Ms: round1(latencyMs.p50 - roundTripsMs) };
    }
    say(
      `${endpoint} × ${connections}: p50 ${latencyMs.p50} ms, p95 ${latencyMs.p95} ms${
        result.wire ? `, wire turns ${result.wire.db} db + ${result.wire.limiter} limiter` : ""
      }`,
    );
    runs.push(result);
  };

  say("preparing users through the API");
  const reader = await signUp(base, "wan-me");
  const warm = { 1: 2, 4: 4 } as const;
  const sets = {
    1: await mapLimit(Array.from({ length: settings.users + warm[1] }), 8, () =>
      signUpWithTotp(base, "wan1"),
    ),
    4: await mapLimit(Array.from({ length: settings.users + warm[4] }), 8, () =>
      signUpWithTotp(base, "wan4"),
    ),
  };

  const auth = { authorization: `Bearer ${reader.token}` };
  const status = async (res: Response) => {
    await res.arrayBuffer();
    return res.status;
  };
  const me: Send = () => fetch(`${base}/v1/me`, { headers: auth }).then(status);
  const usage: Send = () =>
    fetch(`${base}/v1/usage`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ feature: "wan", quantity: 1 }),
    }).then(status);
  const login =
    (users: MfaUser[]): Send =>
    async (i) => {
      const user = users[i]!;
      const res = await api(base, "POST", "/v1/auth/login", {
        json: { email: user.email, password: BENCH_PASSWORD },
      });
      if (res.status === 200) user.challenge = res.body.challenge?.token;
      return res.status;
    };
  const verify =
    (users: MfaUser[]): Send =>
    async (i) => {
      const user = users[i]!;
      const next = nextCode(user);
      const res = await api(base, "POST", "/v1/auth/mfa/verify", {
        json: { challengeToken: user.challenge ?? "none", code: next?.code ?? "000000" },
      });
      if (res.status === 200 && next) user.lastStep = next.step;
      return res.status;
    };

  for (const c of [1, 4] as const) await run("GET /v1/me", c, 5 * c, settings.requests * c, me);
  for (const c of [1, 4] as const) await run("POST /v1/usage", c, 5 * c, settings.requests * c, usage);
  for (const c of [1, 4] as const)
    await run("POST /v1/auth/login", c, warm[c], settings.users, login(sets[c]));
  const waitMs = waitForCodes([...sets[1], ...sets[4]]);
  say(`waiting ${Math.round(waitMs / 1000)} s for the next TOTP step`);
  await sleep(waitMs);
  for (const c of [1, 4] as const)
    await run("POST /v1/auth/mfa/verify", c, warm[c], settings.users, verify(sets[c]));
  return { delayMs, rttMs, clockOffsetMs: round2(clock.offsetMs), clockSpanMs: round2(clock.spanMs), runs };
}

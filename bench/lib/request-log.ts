/**
 * SQL statements, round trips and rate-limit calls per request, read from the server's own
 * per-request log lines (`statements` and `roundTrips` are counted by the Database handle,
 * `limiterRoundTrips` by the request's limiter: what the response waited for; `rateLimitCalls`
 * by the bench server's limiter wrapper, after-response refunds included). Lines are split into scenarios by sentinel requests carrying X-Bench-Drain:
 * the bench server holds such a request until nothing else is in flight, and a request is logged
 * before its response is written, so once the sentinel's line arrives every earlier request's
 * line has arrived too (also those whose client left when a timed run ended).
 */
import type { ChildScript, JsonLine } from "../../test/support/server-process";

export interface RouteStats {
  method: string;
  route: string;
  status: number;
  requests: number;
  statementsPerRequest: number;
  /** Database round trips the response waited for (an atomic batch is one); null when the server does not log them (older commits). */
  roundTripsPerRequest: number | null;
  /** Rate-limit store round trips the response waited for; null when not logged. */
  limiterRoundTripsPerRequest: number | null;
  rateLimitCallsPerRequest: number;
}

interface Sum {
  requests: number;
  statements: number;
  roundTrips: number;
  limiterRoundTrips: number;
  rateLimitCalls: number;
  /** Lines that carried `roundTrips` (older servers do not log it). */
  withRoundTrips: number;
}

export interface RequestLog {
  /** Per (method, route, status): the requests logged since the previous mark, then resets. */
  mark(): Promise<RouteStats[]>;
  stop(): void;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** Follows `server`'s request lines; `baseUrl` is where to send the sentinel requests. */
export function followRequestLog(server: ChildScript, baseUrl: string): RequestLog {
  let sums = new Map<string, Sum>();
  let marks = 0;
  const waiting = new Map<string, () => void>();
  const unsubscribe = server.onLine((line: JsonLine) => {
    if (line.msg !== "request") return;
    const id = String(line.requestId);
    const sentinel = waiting.get(id);
    if (sentinel) return sentinel();
    const key = `${line.method} ${line.route} ${line.status}`;
    const sum = sums.get(key) ?? {
      requests: 0,
      statements: 0,
      roundTrips: 0,
      limiterRoundTrips: 0,
      rateLimitCalls: 0,
      withRoundTrips: 0,
    };
    sum.requests += 1;
    if (line.roundTrips !== undefined) sum.withRoundTrips += 1;
    sum.statements += Number(line.statements ?? 0);
    sum.roundTrips += Number(line.roundTrips ?? 0);
    sum.limiterRoundTrips += Number(line.limiterRoundTrips ?? 0);
    sum.rateLimitCalls += Number(line.rateLimitCalls ?? 0);
    sums.set(key, sum);
  });

  return {
    async mark() {
      const id = `bench-mark-${++marks}`;
      const seen = new Promise<void>((resolve) => waiting.set(id, resolve));
      const res = await fetch(`${baseUrl}/healthz`, {
        headers: { "x-request-id": id, "x-bench-drain": "1" },
      });
      await res.arrayBuffer();
      await seen;
      waiting.delete(id);
      const done = sums;
      sums = new Map();
      return [...done].map(([key, s]) => {
        const [method = "", route = "", status = "0"] = key.split(" ");
        return {
          method,
          route,
          status: Number(status),
          requests: s.requests,
          statementsPerRequest: round2(s.statements / s.requests),
          roundTripsPerRequest: s.withRoundTrips ? round2(s.roundTrips / s.requests) : null,
          limiterRoundTripsPerRequest: s.withRoundTrips ? round2(s.limiterRoundTrips / s.requests) : null,
          rateLimitCallsPerRequest: round2(s.rateLimitCalls / s.requests),
        };
      });
    },
    stop: unsubscribe,
  };
}

/**
 * SQL statements and rate-limit calls per request, read from the server's own per-request log
 * lines (`statements` is counted by the Database handle, `rateLimitCalls` by the bench server's
 * limiter wrapper). Lines are split into scenarios by sentinel requests carrying X-Bench-Drain:
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
  rateLimitCallsPerRequest: number;
}

interface Sum {
  requests: number;
  statements: number;
  rateLimitCalls: number;
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
    const sum = sums.get(key) ?? { requests: 0, statements: 0, rateLimitCalls: 0 };
    sum.requests += 1;
    sum.statements += Number(line.statements ?? 0);
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
          rateLimitCallsPerRequest: round2(s.rateLimitCalls / s.requests),
        };
      });
    },
    stop: unsubscribe,
  };
}

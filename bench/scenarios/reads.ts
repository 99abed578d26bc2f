/**
 * Reads: the authenticated `GET /v1/me` (session lookup + one query), and `GET /healthz` as the
 * floor (HTTP server, middleware and logging, no database) that every other number sits on.
 */
import { signUp } from "../lib/api";
import { type LoadResult, runLoad } from "../lib/load";
import type { RequestLog, RouteStats } from "../lib/request-log";

export type ReadRun = LoadResult & { perRoute: RouteStats[] };

export interface ReadResults {
  me: ReadRun;
  healthz: ReadRun;
}

export async function readScenario(
  base: string,
  log: RequestLog,
  connections: number,
  durationS: number,
): Promise<ReadResults> {
  const user = await signUp(base, "me");
  await log.mark();
  const me = await runLoad({
    title: "GET /v1/me",
    url: `${base}/v1/me`,
    connections,
    duration: durationS,
    headers: { authorization: `Bearer ${user.token}` },
  });
  const meLog = await log.mark();
  const healthz = await runLoad({
    title: "GET /healthz",
    url: `${base}/healthz`,
    connections,
    duration: Math.max(2, Math.round(durationS / 2)),
  });
  const healthLog = await log.mark();
  return { me: { ...me, perRoute: meLog }, healthz: { ...healthz, perRoute: healthLog } };
}

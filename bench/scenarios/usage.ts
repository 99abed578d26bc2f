/**
 * Usage increments (POST /v1/usage, no Idempotency-Key: one upsert) on one hot key and on many
 * keys, side by side with pgbench running the very same upsert at the same concurrency: the ratio
 * says how much of the database's own ceiling the HTTP path reaches. Each HTTP run is also checked
 * for exactness: the counter must equal the number of increments the server answered 200.
 */
import { utcDay } from "../../functions/tenant-data/dates";
import { api, type BenchUser, signUp } from "../lib/api";
import { type LoadResult, runLoad } from "../lib/load";
import { captureUsageUpsert, type PgbenchResult, pgbenchScript, runPgbench } from "../lib/pgbench";
import type { RequestLog, RouteStats } from "../lib/request-log";

/** Distinct features in the many-keys runs (one counter row each, per user and day). */
const MANY_KEYS = 10_000;

export interface UsageRun {
  http: LoadResult & { perRoute: RouteStats[]; counted: number; answered200: number; exact: boolean };
  pgbench: PgbenchResult;
  /** HTTP responses per second ÷ pgbench transactions per second. */
  ratio: number;
}

export interface UsageResults {
  connections: number;
  durationS: number;
  statement: string;
  hot: UsageRun;
  many: UsageRun;
}

const randomKey = () => Math.floor(Math.random() * MANY_KEYS);

async function httpRun(
  base: string,
  log: RequestLog,
  user: BenchUser,
  feature: (() => string) | string,
  connections: number,
  durationS: number,
) {
  const headers = { "content-type": "application/json", authorization: `Bearer ${user.token}` };
  const body = (f: string) => JSON.stringify({ feature: f, quantity: 1 });
  const result = await runLoad({
    title: typeof feature === "string" ? "POST /v1/usage, one hot key" : "POST /v1/usage, many keys",
    url: base,
    connections,
    duration: durationS,
    requests: [
      {
        method: "POST",
        path: "/v1/usage",
        headers,
        ...(typeof feature === "string"
          ? { body: body(feature) }
          : { setupRequest: (req) => ({ ...req, body: body(feature()) }) }),
      },
    ],
  });
  const perRoute = await log.mark();
  // Server-side 200s, not client-side: a request still in flight when the run's clock stopped
  // was answered (and counted) by the server all the same.
  const answered200 = perRoute.find((r) => r.route === "/v1/usage" && r.status === 200)?.requests ?? 0;
  const query = typeof feature === "string" ? `?feature=${feature}` : "";
  const read = await api(base, "GET", `/v1/usage${query}`, { token: user.token, expect: 200 });
  await log.mark(); // the check's own request is no part of the next run
  return {
    ...result,
    perRoute,
    counted: read.body.total,
    answered200,
    exact: read.body.total === answered200,
  };
}

export async function usageScenario(
  base: string,
  log: RequestLog,
  database: string,
  connections: number,
  durationS: number,
): Promise<UsageResults> {
  const [hotUser, manyUser] = [await signUp(base, "usage-hot"), await signUp(base, "usage-many")];
  await log.mark();
  const hotHttp = await httpRun(base, log, hotUser, "bench-hot", connections, durationS);
  const manyHttp = await httpRun(
    base,
    log,
    manyUser,
    () => `bench-many-${randomKey()}`,
    connections,
    durationS,
  );

  // pgbench writes other features than the HTTP runs, so the exactness checks above stay valid.
  const increment = (userId: string, feature: string) => ({
    userId,
    tenantId: null,
    aal: 1,
    feature,
    periodStart: utcDay(new Date()),
    quantity: 1,
    now: new Date(),
  });
  const hotSql = await captureUsageUpsert(increment(hotUser.userId, "pgbench-hot"));
  const manySql = await captureUsageUpsert(increment(manyUser.userId, "pgbench-many"));
  const featureParam = manySql.params.indexOf("pgbench-many");
  const hotPg = runPgbench(database, pgbenchScript(hotSql), connections, durationS);
  const manyPg = runPgbench(
    database,
    pgbenchScript(
      manySql,
      { [featureParam]: "'pgbench-many-' || :k::text" },
      `\\set k random(0, ${MANY_KEYS - 1})\n`,
    ),
    connections,
    durationS,
  );
  const ratio = (http: LoadResult, pg: PgbenchResult) => Math.round((http.rps / pg.tps) * 1000) / 1000;
  return {
    connections,
    durationS,
    statement: hotSql.text,
    hot: { http: hotHttp, pgbench: hotPg, ratio: ratio(hotHttp, hotPg) },
    many: { http: manyHttp, pgbench: manyPg, ratio: ratio(manyHttp, manyPg) },
  };
}

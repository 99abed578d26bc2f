/**
 * Dependencies failing under the running app, on loopback only:
 * - the rate-limit store (a throwaway redis-server behind the Upstash bridge) dies mid-run: MFA
 *   verification answers 503 rate_limit_unavailable and issues nothing (fail closed), then works
 *   again once Redis is back;
 * - Postgres connections die while increments are in flight, killed by pg_terminate_backend or
 *   by a network cut (every relayed WebSocket, or TCP connection for `pg`, dropped): those
 *   requests answer 503 (not 500, and the process survives), every 200 is counted exactly once,
 *   and retries with the same Idempotency-Key count once; on both Postgres drivers;
 * - Postgres refusing connections (nothing listening) answers 503, with the `pg` driver.
 * With CI=true a missing Postgres or redis-server fails these tests instead of skipping them.
 */
import { randomUUID } from "node:crypto";
import net from "node:net";
import { and, count, eq } from "drizzle-orm";
import { DrizzleQueryError } from "drizzle-orm/errors";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isDependencyUnavailable } from "../../functions/http/errors";
import { generateToken } from "../../functions/lib/tokens";
import { databaseDriverFor, databaseOpener } from "../../functions/platform/database-url";
import { createUpstashRateLimiter } from "../../functions/ratelimit/upstash";
import { type Backend, openNodeBackend, PG_HOST, PG_PORT, PG_USER, tcpReachable } from "../support/backends";
import { signUp } from "../support/fixtures";
import { call, type Harness, makeHarness } from "../support/harness";
import { challenge, codeAt, enrollTotp, stepStart } from "../support/mfa";
import { requireService, skipWithout } from "../support/services";
import { startTcpRelay, type TcpRelay, viaRelay } from "../support/tcp-relay";
import { redisServerInstalled, startThrowawayRedis, type ThrowawayRedis } from "../support/throwaway-redis";
import { startUpstashBridge, type UpstashBridge } from "../support/upstash-bridge";

const redisInstalled = redisServerInstalled();
const postgresUp = await tcpReachable(PG_HOST, PG_PORT);

/** Polls `probe` until it resolves true; fails after `timeoutMs` (a bound, not a timing assertion). */
async function eventually(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function expectProblem(
  res: { status: number; headers: Headers; body: { code?: string } },
  status: number,
  code: string,
) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.body.code).toBe(code);
}

describe("isDependencyUnavailable (the error handler's 503 rule)", () => {
  const query = (cause: unknown) => new DrizzleQueryError("rollback", [], cause as Error);
  it("counts a statement sent on a client whose connection just died as the database being down", () => {
    // The ROLLBACK a transaction sends after its connection was cut (see the network-cut test).
    const dead = new Error("Client has encountered a connection error and is not queryable");
    expect(isDependencyUnavailable(query(dead))).toBe(true);
    expect(isDependencyUnavailable(query(new Error("Connection terminated unexpectedly")))).toBe(true);
    expect(isDependencyUnavailable(query(Object.assign(new Error("terminating"), { code: "57P01" })))).toBe(
      true,
    );
  });
  it("keeps request-caused database errors out (they stay 500s: bugs, not outages)", () => {
    const unique = Object.assign(new Error("duplicate key value violates unique constraint"), {
      code: "23505",
    });
    const syntax = Object.assign(new Error('syntax error at or near "selec"'), { code: "42601" });
    expect(isDependencyUnavailable(query(unique))).toBe(false);
    expect(isDependencyUnavailable(query(syntax))).toBe(false);
  });
});

describe.skipIf(skipWithout("redis-server", redisInstalled))("rate-limit store (Redis) stops mid-run", () => {
  let redis: ThrowawayRedis | undefined;
  let bridge: UpstashBridge | undefined;
  let backend: Backend | undefined;
  let h: Harness;

  beforeAll(async () => {
    requireService("redis-server", redisInstalled);
    redis = await startThrowawayRedis();
    bridge = await startUpstashBridge({ redisUrl: redis.url });
    const upstash = { url: bridge.url, token: bridge.token };
    const limiter = createUpstashRateLimiter({ ...upstash, timeoutMs: 500, prefix: `fault-${randomUUID()}` });
    backend = await openNodeBackend("libsql");
    h = makeHarness({
      backend: "libsql",
      open: backend.open,
      rateLimiter: () => limiter,
      env: {
        RATE_LIMIT_STORE: "upstash",
        UPSTASH_REDIS_REST_URL: upstash.url,
        UPSTASH_REDIS_REST_TOKEN: upstash.token,
        RATE_LIMIT_TIMEOUT_MS: "500",
      },
    });
  });

  afterAll(async () => {
    await bridge?.close();
    await redis?.stop();
    await backend?.close();
  });

  async function sessionsOf(userId: string): Promise<number> {
    const { db, t } = h.open();
    const [row] = await db
      .select({ n: count() })
      .from(t.userSessions)
      .where(eq(t.userSessions.userId, userId));
    return Number(row?.n ?? 0);
  }

  it("answers 503 rate_limit_unavailable and issues nothing while Redis is down, then recovers", async () => {
    h.clock.set(stepStart(0));
    const user = await signUp(h);
    const { secret, factorId } = await enrollTotp(h, user);
    const challengeToken = await challenge(h, user);
    const before = await sessionsOf(user.userId);

    await redis!.kill();
    h.clock.set(stepStart(1));
    const code = codeAt(secret, stepStart(1));
    for (let i = 0; i < 3; i++) {
      const res = await call(h, "POST", "/v1/auth/mfa/verify", { json: { challengeToken, code } });
      expectProblem(res, 503, "rate_limit_unavailable");
      expect(res.body.session).toBeUndefined();
    }
    // A password login cannot start either: its limits are checked before the password.
    const login = await call(h, "POST", "/v1/auth/login", {
      json: { email: user.email, password: user.password },
    });
    expectProblem(login, 503, "rate_limit_unavailable");
    expect(await sessionsOf(user.userId)).toBe(before);
    const { db, t } = h.open();
    const [factor] = await db
      .select({ step: t.userMfaMethods.lastUsedStep })
      .from(t.userMfaMethods)
      .where(eq(t.userMfaMethods.id, factorId));
    expect(factor?.step).toBeLessThan(Math.floor(stepStart(1) / 30_000)); // the code was never checked

    await redis!.restart();
    const readyz = () => call(h, "GET", "/readyz").then((r) => r.status === 200);
    await eventually(readyz, 15_000, "the rate-limit store to answer again");
    const ok = await call(h, "POST", "/v1/auth/mfa/verify", { json: { challengeToken, code } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.session.aal).toBe(2);
    expect(await sessionsOf(user.userId)).toBe(before + 1);
  });
});

describe.skipIf(skipWithout("Postgres", postgresUp))("Postgres refusing connections [pg]", () => {
  it("answers 503 (not 500) while nothing listens: writes, reads and /readyz", async () => {
    // A port that was just free: nothing listens there, so every connect is refused at once.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const url = `postgres://${PG_USER}@127.0.0.1:${port}/nothing_here`;
    expect(databaseDriverFor(url)).toBe("pg"); // the Node entry's choice for this URL
    const h = makeHarness({ backend: "postgres-pg", open: databaseOpener(url, { perRequest: false }) });
    const register = await call(h, "POST", "/v1/auth/register", {
      json: { email: `refused-${randomUUID()}@example.test`, password: "refused correct horse battery" },
    });
    // The SQL rate-limit store lives in the same database and is checked first: closed, 503.
    expectProblem(register, 503, "rate_limit_unavailable");
    // A well-formed token: the session lookup is the statement that cannot be sent.
    const me = await call(h, "GET", "/v1/me", { token: generateToken() });
    expectProblem(me, 503, "service_unavailable");
    const ready = await call(h, "GET", "/readyz");
    expect(ready.status).toBe(503);
    expect(h.undeclared).toEqual([]);
  });
});

/** How each driver reaches the scratch database, and how the network under it is cut. */
const DRIVERS = [
  { driver: "neon", backend: "postgres", wire: "every relayed WebSocket" },
  { driver: "pg", backend: "postgres-pg", wire: "every TCP connection through a relay" },
] as const;

for (const { driver, backend: backendName, wire } of DRIVERS)
  describe.skipIf(skipWithout("Postgres", postgresUp))(
    `Postgres connections killed mid-load [${driver}]`,
    () => {
      let backend: Backend | undefined;
      let tcpRelay: TcpRelay | undefined;
      let admin: pg.Pool | undefined;
      let h: Harness;

      beforeAll(async () => {
        requireService("Postgres", postgresUp);
        backend = await openNodeBackend(backendName);
        // The scratch database (and, for Neon, the relay) from the test backend, but the app's own
        // pool factory (as the Node entry uses it): how that pool survives killed connections is
        // under test. `pg` goes through a TCP relay so the network can be cut under it too. A short
        // connect timeout keeps the network-cut case quick (requests queued for a slot answer 503).
        let url = backend.url!;
        if (driver === "pg") {
          tcpRelay = await startTcpRelay({ host: PG_HOST, port: PG_PORT });
          url = viaRelay(url, tcpRelay);
        }
        const open = databaseOpener(url, { perRequest: false, connectTimeoutMs: 2_000, driver });
        h = makeHarness({ backend: backendName, open });
        // A connection of its own to the scratch database, outside the app's pool and any relay.
        admin = new pg.Pool({ connectionString: backend.url, max: 2 });
        admin.on("error", () => {});
        admin.on("connect", (client) => client.on("error", () => {})); // pg_terminate_backend may hit its idle one
      });

      afterAll(async () => {
        await admin?.end().catch(() => {});
        await tcpRelay?.close();
        await backend?.close();
      });

      /**
       * Sends 24 increments (two thirds with an Idempotency-Key, on a feature of their own) while the
       * user's counter rows are locked, so they are certainly in flight, waiting inside their
       * statements, when `cut` kills their connections; checks the answers and the counters, then
       * retries the keyed ones with the same keys. `silentCommits`: an increment may commit after
       * its client was cut off, so its 503 is ambiguous (counted 0 or 1 times): the unkeyed one is
       * one autocommit statement, the keyed one one batch (db/dialect.ts sends it as ONE
       * multi-statement message, an implicit transaction the server commits without waiting for
       * the client, as a D1 or libSQL batch does). That is the reason Idempotency-Key exists: the
       * retries with the same keys then count every key exactly once, asserted at the end.
       */
      async function cutMidLoad(cut: (lockerPid: number) => Promise<void>, silentCommits: boolean) {
        const user = await signUp(h);
        const keyedFeature = `keyed-${randomUUID().slice(0, 8)}`;
        const plainFeature = `plain-${randomUUID().slice(0, 8)}`;
        const increment = (quantity: number, key?: string) =>
          call(h, "POST", "/v1/usage", {
            token: user.token,
            json: { feature: key ? keyedFeature : plainFeature, quantity },
            ...(key ? { headers: { "idempotency-key": key } } : {}),
          });
        const counter = async (feature: string) => {
          const { db, t } = h.open();
          const u = t.usageCounters;
          const [row] = await db
            .select({ total: u.total })
            .from(u)
            .where(and(eq(u.userId, user.userId), eq(u.feature, feature)));
          return Number(row?.total ?? 0);
        };
        expect((await increment(1, "warm-up")).status).toBe(200);
        expect((await increment(1)).status).toBe(200);

        const sent = Array.from({ length: 24 }, (_, i) => ({
          quantity: 1 + ((i * 37) % 500),
          key: i % 3 === 2 ? undefined : `fault-${i}-${randomUUID()}`,
        }));
        let pending: ReturnType<typeof increment>[] = [];
        // Watching goes through another connection: inside a transaction pg_stat_activity is a snapshot.
        const locker = await admin!.connect();
        let lockerError: Error | undefined;
        try {
          await locker.query("BEGIN");
          await locker.query("SELECT 1 FROM usage_counters WHERE user_id = $1 FOR UPDATE", [user.userId]);
          const lockerPid: number = (await locker.query("SELECT pg_backend_pid() AS pid")).rows[0].pid;
          pending = sent.map((x) => increment(x.quantity, x.key));
          const waiting = async () => {
            const { rows } = await admin!.query(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> $1 AND wait_event_type = 'Lock'",
              [lockerPid],
            );
            return rows[0].n >= 5;
          };
          await eventually(waiting, 15_000, "increments to wait on the row locks");
          await cut(lockerPid);
          await locker.query("ROLLBACK");
        } catch (error) {
          lockerError = error as Error; // the cut may take the locker's own connection with it
        } finally {
          locker.release(lockerError);
        }

        const answers = await Promise.all(pending);
        for (const res of answers) {
          if (res.status !== 200) expectProblem(res, 503, "service_unavailable");
        }
        expect(answers.filter((res) => res.status === 503).length).toBeGreaterThanOrEqual(1);
        const sum = (keyed: boolean, status: number) =>
          sent.reduce(
            (n, x, i) => n + (!!x.key === keyed && answers[i]!.status === status ? x.quantity : 0),
            0,
          );
        const keyedTotal = await counter(keyedFeature);
        if (silentCommits) {
          expect(keyedTotal).toBeGreaterThanOrEqual(1 + sum(true, 200));
          expect(keyedTotal).toBeLessThanOrEqual(1 + sum(true, 200) + sum(true, 503));
        } else {
          expect(keyedTotal).toBe(1 + sum(true, 200));
        }
        const plain = await counter(plainFeature);
        if (silentCommits) {
          expect(plain).toBeGreaterThanOrEqual(1 + sum(false, 200));
          expect(plain).toBeLessThanOrEqual(1 + sum(false, 200) + sum(false, 503));
        } else {
          expect(plain).toBe(1 + sum(false, 200));
        }

        // Clients retry what failed with the same key; duplicates of what succeeded replay its answer.
        const keyed = sent.map((x, i) => ({ ...x, i })).filter((x) => x.key);
        const retries = await Promise.all(keyed.map((x) => increment(x.quantity, x.key)));
        for (const [j, res] of retries.entries()) {
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          const first = answers[keyed[j]!.i]!;
          if (first.status === 200) expect(res.body.counter.total).toBe(first.body.counter.total);
        }
        expect(await counter(keyedFeature)).toBe(1 + keyed.reduce((n, x) => n + x.quantity, 0));
      }

      it("pg_terminate_backend: killed requests answer 503, every 200 counts once, retries count once", async () => {
        await cutMidLoad(async (lockerPid) => {
          const { rows } = await admin!.query(
            "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid NOT IN ($1, pg_backend_pid())",
            [lockerPid],
          );
          const pids = rows.map((r: { pid: number }) => r.pid);
          // Only once they are gone may the locks go: a killed backend must not get to write first.
          const gone = async () =>
            (
              await admin!.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY($1)", [
                pids,
              ])
            ).rows[0].n === 0;
          await eventually(gone, 10_000, "the killed backends to exit");
        }, false);
      });

      it(`network cut (${wire} to Postgres dropped): the same, unkeyed 503s being ambiguous`, async () => {
        // Here a failed statement's ROLLBACK meets a dead client ("… not queryable"): still a 503.
        await cutMidLoad(async () => (driver === "pg" ? tcpRelay! : backend!.relay!).dropAll(), true);
      });
    },
  );

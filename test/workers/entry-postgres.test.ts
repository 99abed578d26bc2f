/**
 * The real Workers entry (functions/index.ts: createWorker, what the default export is) inside
 * workerd on Postgres, configured as a deployment is: DATABASE_URL (a postgres:// URL) beside
 * wrangler.toml's vars and the test secrets, plus DATABASE_HTTP_ENDPOINT pointing at the
 * test's stand-in for Neon's SQL-over-HTTP endpoint (the only test-only setting: a deployment
 * reaches Neon's own). The stand-in's count of HTTP requests for the scratch database shows the
 * entry took that path.
 *
 * (Through the entry module rather than SELF: SELF's bindings are fixed when the project's
 * miniflare starts, and the scratch database each path gets exists only once the suite runs.)
 */
import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorker, type WorkerEnv, type WorkerHandlers } from "../../functions/index";
import { POSTGRES_PATHS, type ScratchDatabase, scratchDatabase, workersPostgres } from "./postgres";

type IncomingRequest = Parameters<WorkerHandlers["fetch"]>[0];
const PASSWORD = "correct horse battery staple";

for (const path of POSTGRES_PATHS) {
  describe.skipIf(!workersPostgres)(`Workers entry on Postgres [${path}]`, () => {
    let scratch: ScratchDatabase;
    let workerEnv: WorkerEnv;
    let worker: WorkerHandlers;

    beforeAll(async () => {
      scratch = await scratchDatabase(workersPostgres!);
      workerEnv = {
        ...(env as unknown as WorkerEnv),
        DATABASE_URL: scratch.url,
        DATABASE_HTTP_ENDPOINT: workersPostgres!.sqlEndpoint,
      };
      worker = createWorker();
    });
    afterAll(async () => {
      await scratch?.drop();
    });

    async function fetchEntry(url: string, init?: RequestInit): Promise<Response> {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request(`http://127.0.0.1${url}`, init) as IncomingRequest,
        workerEnv,
        ctx,
      );
      // The body first: a streamed answer may still be querying until it is read.
      const body = await res.arrayBuffer();
      await waitOnExecutionContext(ctx);
      return new Response(body, res);
    }

    const post = (url: string, json: unknown, token?: string) =>
      fetchEntry(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "cf-connecting-ip": "192.0.2.45",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(json),
      });

    it("serves readiness, registration, login and an authenticated read, through the configured path", async () => {
      const before = await scratch.wire();
      const ready = await fetchEntry("/readyz");
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: "ok", checks: { database: "ok", rateLimitStore: "ok" } });
      const email = `entry-pg-${crypto.randomUUID()}@example.test`;
      expect((await post("/v1/auth/register", { email, password: PASSWORD })).status).toBe(201);
      const login = await post("/v1/auth/login", { email, password: PASSWORD });
      expect(login.status).toBe(200);
      const { session } = (await login.json()) as { session: { token: string } };
      const me = await fetchEntry("/v1/me", { headers: { authorization: `Bearer ${session.token}` } });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ user: { email } });
      // A taken address: the batch's conditional insert wrote nothing.
      expect((await post("/v1/auth/register", { email, password: PASSWORD })).status).toBe(409);
      expect((await scratch.wire()).httpRequests).toBeGreaterThan(before.httpRequests);
    });

    it("runs its cron pass (sweep and outbox) on Postgres", async () => {
      const before = await scratch.wire();
      const ctx = createExecutionContext();
      await worker.scheduled(
        createScheduledController({ scheduledTime: Date.now(), cron: "17 * * * *" }),
        workerEnv,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      const after = await scratch.wire();
      expect(after.httpRequests).toBeGreaterThan(before.httpRequests);
    });
  });
}

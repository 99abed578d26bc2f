/**
 * The real Workers entry (functions/index.ts) inside workerd on D1, with wrangler.toml's vars and
 * test secrets: it serves the API, and its cron trigger sweeps expired rows.
 */
import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { d1Database } from "../../db/dialect";
import worker, { type WorkerEnv } from "../../functions/index";

// The entry's types: an incoming request (with Cloudflare's cf properties) and the open-ended
// WorkerEnv; the test's Request and Env satisfy them at run time.
type IncomingRequest = Parameters<typeof worker.fetch>[0];
const workerEnv = env as unknown as WorkerEnv;

async function fetchEntry(path: string, init?: RequestInit) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://127.0.0.1${path}`, init) as IncomingRequest,
    workerEnv,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe("Workers entry", () => {
  it("serves readiness and a registration round trip on D1", async () => {
    const ready = await fetchEntry("/readyz");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ok", checks: { database: "ok", rateLimitStore: "ok" } });
    const email = `entry-${crypto.randomUUID()}@example.test`;
    const reg = await fetchEntry("/v1/auth/register", {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": "192.0.2.44" },
      body: JSON.stringify({ email, password: "correct horse battery staple" }),
    });
    expect(reg.status).toBe(201);
    expect(reg.headers.get("x-request-id")).toBeTruthy();
    // wrangler.toml's top level is what a bare `wrangler deploy` ships: production, so the
    // development outbox (reset tokens) is not mounted. Development is [env.development].
    expect(workerEnv.APP_ENV).toBe("production");
    expect((await fetchEntry(`/v1/dev/outbox?to=${email}`)).status).toBe(404);
  });

  it("deletes expired rows on its cron trigger and keeps live ones", async () => {
    const db = d1Database(env.DB);
    const { t } = db;
    const email = `sweep-${crypto.randomUUID()}@example.test`;
    await fetchEntry("/v1/auth/register", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "correct horse battery staple" }),
    });
    const login = await fetchEntry("/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "correct horse battery staple" }),
    });
    const { session } = (await login.json()) as { session: { id: string } };
    const [user] = await db.db.select().from(t.users).where(eq(t.users.email, email));
    const longAgo = new Date(Date.now() - 30 * 24 * 3600 * 1000);
    await db.db.insert(t.userSessions).values({
      id: crypto.randomUUID(),
      userId: user!.id,
      tokenHash: crypto.randomUUID(),
      aal: 1,
      createdAt: longAgo,
      lastSeenAt: longAgo,
      expiresAt: longAgo,
      absoluteExpiresAt: longAgo,
    });
    const ctx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ scheduledTime: Date.now(), cron: "17 * * * *" }),
      workerEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const left = await db.db.select().from(t.userSessions).where(eq(t.userSessions.userId, user!.id));
    expect(left.map((s) => s.id)).toEqual([session.id]);
  });
});

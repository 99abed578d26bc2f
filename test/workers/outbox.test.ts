/**
 * The outbox on the real Workers entry (functions/index.ts) inside workerd on D1: a message a
 * request queued is sent in `ctx.waitUntil` after the answer, and what a request could not send
 * is sent by the cron trigger's periodic pass once its retry is due.
 *
 * The transport: the entry is built with `createWorker({ mailTransport })`, the factory its
 * default export is made with, and given a test double of the MailTransport interface. This
 * build has no provider transport yet (functions/outbox/transport.ts), so there is no HTTP
 * transport to point at an outbound mock; injecting through the entry's own option drives the
 * same fetch and scheduled handlers, the same middleware and the same D1 database as deployed.
 */
import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { d1Database } from "../../db/dialect";
import { createWorker, type WorkerEnv, type WorkerHandlers } from "../../functions/index";
import { MailDeliveryError, type MailMessage, type MailTransport } from "../../functions/mail/types";

type IncomingRequest = Parameters<WorkerHandlers["fetch"]>[0];
const workerEnv = env as unknown as WorkerEnv;
const PASSWORD = "correct horse battery staple";

function request(path: string, json: unknown) {
  return new Request(`http://127.0.0.1${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(json),
  }) as IncomingRequest;
}

/** Serves one request and waits for its waitUntil work. */
async function serve(worker: WorkerHandlers, path: string, json: unknown) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(request(path, json), workerEnv, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

function recordingTransport() {
  const sent: MailMessage[] = [];
  const transport: MailTransport = {
    name: "recording",
    async send(message) {
      sent.push(message);
    },
  };
  return { transport, sent };
}

/** The reset messages queued for `email` (the registration's verification message aside). */
async function outboxRows(email: string) {
  const { db, t } = d1Database(env.DB);
  const o = t.outboxMessages;
  return db
    .select()
    .from(o)
    .where(and(eq(o.recipient, email), eq(o.kind, "password_reset")));
}

describe("outbox on the Workers entry", () => {
  it("sends the message a request queued in waitUntil, after the answer", async () => {
    const sent: MailMessage[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let called = 0;
    const worker = createWorker({
      mailTransport: () => ({
        name: "gated",
        async send(message) {
          called++;
          await gate;
          sent.push(message);
        },
      }),
    });
    const email = `wait-until-${crypto.randomUUID()}@example.test`;
    // Registered through a worker whose provider answers (its verification message is sent there).
    const quiet = createWorker({ mailTransport: () => recordingTransport().transport });
    expect((await serve(quiet, "/v1/auth/register", { email, password: PASSWORD })).status).toBe(201);

    const ctx = createExecutionContext();
    const res = await worker.fetch(request("/v1/auth/password/forgot", { email }), workerEnv, ctx);
    // The answer is out; the provider has not answered yet.
    expect(res.status).toBe(202);
    expect(sent).toEqual([]);
    const [queued] = await outboxRows(email);
    expect(queued?.status).toMatch(/^(pending|sending)$/);

    open();
    await waitOnExecutionContext(ctx);
    expect(called).toBe(1);
    expect(sent.map((m) => m.to)).toEqual([email]);
    expect(sent[0]?.subject).toMatch(/reset/i);
    expect(sent[0]!.text).toMatch(/reset-password\?token=\S+/);
    const [row] = await outboxRows(email);
    expect(row).toMatchObject({ status: "sent", attempts: 1, claimedUntil: null });
    expect(row!.sentAt).toBeInstanceOf(Date);
  });

  it("leaves a message the provider refused for now to the cron pass, which sends it once due", async () => {
    const down = createWorker({
      mailTransport: () => ({
        name: "down",
        send: async () => {
          throw new MailDeliveryError("provider_503", true);
        },
      }),
    });
    const email = `cron-${crypto.randomUUID()}@example.test`;
    await serve(down, "/v1/auth/register", { email, password: PASSWORD });
    const before = Date.now();
    expect((await serve(down, "/v1/auth/password/forgot", { email })).status).toBe(202);
    const [failed] = await outboxRows(email);
    expect(failed).toMatchObject({ status: "pending", attempts: 1, lastError: "provider_503" });
    const due = failed!.nextAttemptAt!.getTime();
    expect(due - before).toBeGreaterThanOrEqual(30_000);
    expect(due - Date.now()).toBeLessThanOrEqual(30_000);

    const { transport, sent } = recordingTransport();
    const up = createWorker({ mailTransport: () => transport });
    const cron = async (scheduledTime: number) => {
      const ctx = createExecutionContext();
      await up.scheduled(createScheduledController({ scheduledTime, cron: "17 * * * *" }), workerEnv, ctx);
      await waitOnExecutionContext(ctx);
    };
    // Not due yet: the cron pass leaves it.
    await cron(Date.now());
    expect(sent.filter((m) => m.to === email && /reset/i.test(m.subject))).toEqual([]);
    expect((await outboxRows(email))[0]).toMatchObject({ status: "pending", attempts: 1 });
    // Due: sent, once.
    await cron(due + 1);
    const resets = () => sent.filter((m) => m.to === email && /reset/i.test(m.subject));
    expect(resets()).toHaveLength(1);
    expect((await outboxRows(email))[0]).toMatchObject({ status: "sent", attempts: 2 });
    await cron(due + 60_000);
    expect(resets()).toHaveLength(1);
  });
});

/**
 * The outbox dispatcher on libSQL and Postgres: a request's messages are sent right after its
 * response (and a provider outage neither delays the answer nor loses the message), two
 * dispatchers never send a message twice, retries back off exponentially up to the attempt
 * limit, a crashed dispatcher's claim runs out, and the sweep deletes only sent and failed
 * messages past the retention. The transports are test doubles of the MailTransport interface.
 */
import { and, eq, inArray } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import { beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../db/database";
import { sweepExpired } from "../../db/sweep";
import { createSecretBox, parseKeyring, type SecretBox } from "../../functions/lib/secret-box";
import { MailDeliveryError, type MailMessage, type MailTransport } from "../../functions/mail/types";
import { CLAIM_LEASE_MS, claimLeaseMs, dispatchDue } from "../../functions/outbox/dispatch";
import { insertOutboxMessage } from "../../functions/stores/outbox";
import type { Backend } from "../support/backends";
import { PASSWORD, signUp, uniqueEmail } from "../support/fixtures";
import { api, expectStatus, type Harness, makeHarness } from "../support/harness";
import { onNodeBackends } from "../support/node-backends";

const SECOND = 1000;
const DAY = 24 * 3600 * SECOND;

/** Records every message it is given; optionally waits a little first (to interleave racers). */
function recordingTransport(opts: { jitterMs?: number } = {}) {
  const sent: MailMessage[] = [];
  const transport: MailTransport = {
    name: "recording",
    async send(message) {
      if (opts.jitterMs) await new Promise((r) => setTimeout(r, Math.random() * opts.jitterMs!));
      sent.push(message);
    },
  };
  return { transport, sent };
}

/** Throws the scripted errors one per call, then succeeds (recording). */
function scriptedTransport(errors: unknown[]) {
  const { transport: recorder, sent } = recordingTransport();
  let calls = 0;
  const transport: MailTransport = {
    name: "scripted",
    async send(message) {
      calls++;
      const error = errors.shift();
      if (error) throw error;
      await recorder.send(message);
    },
  };
  return { transport, sent, calls: () => calls };
}

/** Never settles on its own; `release()` lets every pending send succeed. */
function hangingTransport() {
  const calls: MailMessage[] = [];
  const waiting: (() => void)[] = [];
  const transport: MailTransport = {
    name: "hanging",
    send(message) {
      calls.push(message);
      return new Promise<void>((resolve) => waiting.push(resolve));
    },
  };
  const release = () => {
    for (const resolve of waiting.splice(0)) resolve();
  };
  return { transport, calls, release };
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
}

onNodeBackends((h, backend) => outboxSuite(h, backend));

function outboxSuite(h: () => Harness, backend: () => Backend) {
  let box: SecretBox;
  beforeAll(() => {
    box = createSecretBox(parseKeyring(h().config.encryptionKeys));
  });

  /** Queues a message the way flows do (sealed payload bound to the id), created at `at`. */
  async function queue(db: Database, at: number, opts: { kind?: string; token?: string } = {}) {
    const id = uuidv7();
    const recipient = uniqueEmail("outbox");
    const token = opts.token ?? `tok-${crypto.randomUUID()}`;
    const payload = await box.seal(JSON.stringify({ token }), id);
    await db.atomic((d) => [
      insertOutboxMessage(d, db.t, {
        id,
        recipient,
        kind: opts.kind ?? "password_reset",
        payload,
        createdAt: new Date(at),
      }),
    ]);
    return { id, recipient, token };
  }

  async function row(id: string) {
    const { db, t } = h().open();
    const [r] = await db.select().from(t.outboxMessages).where(eq(t.outboxMessages.id, id));
    return r!;
  }

  const pass = (transport: MailTransport, at: number, extra: { ids?: string[]; limit?: number } = {}) =>
    dispatchDue(h().open(), { transport, box, config: h().config, now: () => new Date(at), ...extra });

  describe("after the response", () => {
    it("sends the reset message a forgot request queued, once, without token or address in any log", async () => {
      const { transport, sent } = recordingTransport();
      const m = makeHarness({ backend: backend().name, open: backend().open, mailTransport: transport });
      const start = Date.UTC(2031, 0, 1, 12);
      m.clock.set(start);
      const user = await signUp(m);
      await m.settle();
      sent.length = 0; // the verification message of the sign-up
      await expectStatus(api(m).v1.auth.password.forgot.$post({ json: { email: user.email } }), 202);
      await m.settle();
      expect(sent.map((s) => s.to)).toEqual([user.email]);
      expect(sent[0]?.subject).toMatch(/reset/i);
      const link = /reset-password\?token=(\S+)/.exec(sent[0]!.text)?.[1];
      expect(link).toBeTruthy();
      const token = decodeURIComponent(link!);

      const { db, t } = m.open();
      const rows = await db
        .select()
        .from(t.outboxMessages)
        .where(and(eq(t.outboxMessages.recipient, user.email), eq(t.outboxMessages.kind, "password_reset")));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        status: "sent",
        attempts: 1,
        userId: user.userId,
        sentAt: new Date(start),
        claimedUntil: null,
        lastError: null,
      });
      // The token works: it is the one the reset flow accepts.
      await expectStatus(
        api(m).v1.auth.password.reset.$post({
          json: { token: token!, newPassword: "another long passphrase" },
        }),
        200,
      );
      await m.settle();
      const logs = JSON.stringify(m.logs);
      expect(logs).not.toContain(user.email);
      expect(logs).not.toContain(token);
      expect(m.logs).toContainEqual(expect.objectContaining({ msg: "outbox dispatch", sent: 1 }));
    });

    it("sends nothing for an unknown address (the same after-response pass finds no row)", async () => {
      const { transport, sent } = recordingTransport();
      const m = makeHarness({ backend: backend().name, open: backend().open, mailTransport: transport });
      await expectStatus(
        api(m).v1.auth.password.forgot.$post({ json: { email: uniqueEmail("nobody") } }),
        202,
      );
      await m.settle();
      expect(sent).toEqual([]);
      expect(m.logs).toContainEqual(expect.objectContaining({ msg: "outbox dispatch", sent: 0, failed: 0 }));
    });

    it("sends each request only its own messages when requests run at once", async () => {
      const { transport, sent } = recordingTransport({ jitterMs: 3 });
      const m = makeHarness({ backend: backend().name, open: backend().open, mailTransport: transport });
      const users = [];
      for (let i = 0; i < 4; i++) {
        const email = uniqueEmail("together");
        await expectStatus(api(m).v1.auth.register.$post({ json: { email, password: PASSWORD } }), 201);
        users.push({ email });
      }
      await m.settle();
      sent.length = 0; // the verification messages of the registrations
      m.logs.length = 0;
      await Promise.all(
        users.map((u) =>
          expectStatus(api(m).v1.auth.password.forgot.$post({ json: { email: u.email } }), 202),
        ),
      );
      await m.settle();
      expect(sent.map((s) => s.to).sort()).toEqual(users.map((u) => u.email).sort());
      // Each request dispatched exactly the one message it queued (no request saw another's id).
      const dispatches = m.logs.filter((l) => l.msg === "outbox dispatch");
      expect(dispatches.map((l) => l.sent)).toEqual(users.map(() => 1));
    });

    it("answers at once while the provider hangs; the message stays queued and a later pass sends it", async () => {
      const down = hangingTransport();
      // The dispatcher gives up on a send after MAIL_TIMEOUT_MS (the transport contract's bound).
      const m = makeHarness({
        backend: backend().name,
        open: backend().open,
        env: { MAIL_TIMEOUT_MS: "2000" },
        mailTransport: down.transport,
      });
      const start = Date.UTC(2031, 1, 1, 12);
      m.clock.set(start);
      // The accounts are made through a harness without a transport (their verification
      // messages stay queued and are not this test's business).
      const setup = makeHarness({ backend: backend().name, open: backend().open, config: m.config });
      setup.clock.set(start);
      const users = [await signUp(setup), await signUp(setup)];
      const { db, t } = m.open();
      const o = t.outboxMessages;
      const rows = () =>
        db
          .select()
          .from(o)
          .where(
            and(
              inArray(
                o.recipient,
                users.map((u) => u.email),
              ),
              eq(o.kind, "password_reset"),
            ),
          );
      for (const user of users) {
        await expectStatus(api(m).v1.auth.password.forgot.$post({ json: { email: user.email } }), 202);
        // The answer did not wait for the dispatch: had it waited, the provider's 2 s timeout
        // would already be recorded on the message.
        for (const r of await rows()) expect(r.lastError).toBeNull();
      }
      await until(() => down.calls.length === 2);
      // Claimed while the send hangs; after the timeout back to pending for a retry in 30 s.
      await m.settle();
      for (const r of await rows()) {
        expect(r).toMatchObject({ status: "pending", attempts: 1, lastError: "timeout" });
        expect(r.nextAttemptAt).toEqual(new Date(start + 30 * SECOND));
      }
      expect(m.logs).toContainEqual(
        expect.objectContaining({ msg: "outbox delivery failed", reason: "timeout", outcome: "pending" }),
      );

      // The provider is back: the periodic pass sends both once they are due.
      const { transport, sent } = recordingTransport();
      const periodic = async (at: number) =>
        dispatchDue(m.open(), {
          transport,
          box: createSecretBox(parseKeyring(m.config.encryptionKeys)),
          config: m.config,
          now: () => new Date(at),
          ids: (await rows()).map((r) => r.id),
        });
      await periodic(start + 29 * SECOND);
      expect(sent).toEqual([]);
      const result = await periodic(start + 30 * SECOND);
      expect(result).toEqual({ sent: 2, retried: 0, failed: 0 });
      expect(sent.map((s) => s.to).sort()).toEqual(users.map((u) => u.email).sort());
      for (const r of await rows()) expect(r).toMatchObject({ status: "sent", attempts: 2 });
      down.release();
    });
  });

  it("sends every message exactly once with two dispatchers racing over 50 messages", async () => {
    const at = Date.UTC(2031, 2, 1);
    const queued = [];
    for (let i = 0; i < 50; i++) queued.push(await queue(h().open(), at));
    const ids = queued.map((q) => q.id);
    const { transport, sent } = recordingTransport({ jitterMs: 3 });
    const [a, b] = await Promise.all([pass(transport, at, { ids }), pass(transport, at, { ids })]);
    expect(a.sent + b.sent).toBe(50);
    expect([a.retried + b.retried, a.failed + b.failed]).toEqual([0, 0]);
    // Both did some of the work (they raced), and no recipient got two messages.
    expect(Math.min(a.sent, b.sent)).toBeGreaterThan(0);
    const recipients = sent.map((s) => s.to);
    expect(new Set(recipients).size).toBe(50);
    expect(recipients.sort()).toEqual(queued.map((q) => q.recipient).sort());
    const { db, t } = h().open();
    const rows = await db.select().from(t.outboxMessages).where(inArray(t.outboxMessages.id, ids));
    expect(rows.every((r) => r.status === "sent" && r.attempts === 1)).toBe(true);
    // A third pass finds nothing left to send.
    expect(await pass(transport, at + DAY, { ids })).toEqual({ sent: 0, retried: 0, failed: 0 });
  });

  describe("retries", () => {
    it("backs off 30 s, 60 s, 120 s after retryable failures, then sends", async () => {
      const at = Date.UTC(2031, 3, 1);
      const q = await queue(h().open(), at);
      const { transport, sent, calls } = scriptedTransport([
        new MailDeliveryError("provider_503", true),
        new MailDeliveryError("provider_429", true),
        new MailDeliveryError("connection_reset", true),
      ]);
      let now = at;
      const expected = [
        [30, "provider_503"],
        [60, "provider_429"],
        [120, "connection_reset"],
      ] as const;
      for (const [attempt, [waitS, reason]] of expected.entries()) {
        expect(await pass(transport, now, { ids: [q.id] })).toEqual({ sent: 0, retried: 1, failed: 0 });
        const r = await row(q.id);
        expect(r).toMatchObject({
          status: "pending",
          attempts: attempt + 1,
          lastError: reason,
          claimedUntil: null,
        });
        expect(r.nextAttemptAt).toEqual(new Date(now + waitS * SECOND));
        // Not due a second early.
        expect(await pass(transport, now + waitS * SECOND - 1, { ids: [q.id] })).toEqual({
          sent: 0,
          retried: 0,
          failed: 0,
        });
        now += waitS * SECOND;
      }
      expect(await pass(transport, now, { ids: [q.id] })).toEqual({ sent: 1, retried: 0, failed: 0 });
      expect(await row(q.id)).toMatchObject({ status: "sent", attempts: 4, sentAt: new Date(now) });
      expect(calls()).toBe(4);
      expect(sent.map((s) => s.to)).toEqual([q.recipient]);
      expect(sent[0]!.text).toContain(q.token);
    });

    it("marks a message failed at once on a non-retryable error", async () => {
      const at = Date.UTC(2031, 4, 1);
      const q = await queue(h().open(), at);
      const { transport, calls } = scriptedTransport([new MailDeliveryError("recipient_refused", false)]);
      expect(await pass(transport, at, { ids: [q.id] })).toEqual({ sent: 0, retried: 0, failed: 1 });
      expect(await row(q.id)).toMatchObject({
        status: "failed",
        attempts: 1,
        lastError: "recipient_refused",
        nextAttemptAt: null,
        claimedUntil: null,
        sentAt: null,
      });
      // Never tried again.
      expect(await pass(transport, at + DAY, { ids: [q.id] })).toEqual({ sent: 0, retried: 0, failed: 0 });
      expect(calls()).toBe(1);
    });

    it("gives up after maxAttempts; any other error is retryable under its name", async () => {
      const { maxAttempts, retryBaseMs } = h().config.outbox;
      expect([maxAttempts, retryBaseMs]).toEqual([8, 30 * SECOND]);
      const at = Date.UTC(2031, 5, 1);
      const q = await queue(h().open(), at);
      const transport: MailTransport = {
        name: "broken",
        send: async () => {
          throw new TypeError(`cannot reach ${q.recipient}`);
        },
      };
      let now = at;
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        const result = await pass(transport, now, { ids: [q.id] });
        const r = await row(q.id);
        expect(r.attempts).toBe(attempt);
        expect(r.lastError).toBe("TypeError");
        if (attempt < maxAttempts) {
          expect(result).toEqual({ sent: 0, retried: 1, failed: 0 });
          expect(r.nextAttemptAt!.getTime() - now).toBe(retryBaseMs * 2 ** (attempt - 1));
          now = r.nextAttemptAt!.getTime();
        } else {
          expect(result).toEqual({ sent: 0, retried: 0, failed: 1 });
          expect(r.status).toBe("failed");
        }
      }
      expect(await pass(transport, now + DAY, { ids: [q.id] })).toEqual({ sent: 0, retried: 0, failed: 0 });
    });
  });

  it("sends a message whose dispatcher died holding the claim, once the lease has run out", async () => {
    const at = Date.UTC(2031, 6, 1);
    const q = await queue(h().open(), at);
    // A long mail timeout: the first dispatcher stays stuck in its send (as if it had crashed).
    const config = { ...h().config, mail: { ...h().config.mail, timeoutMs: 90 * SECOND } };
    const lease = claimLeaseMs(config);
    expect(lease).toBe(Math.max(CLAIM_LEASE_MS, 180 * SECOND));
    const stuck = hangingTransport();
    const logs: Record<string, unknown>[] = [];
    const crashed = dispatchDue(h().open(), {
      transport: stuck.transport,
      box,
      config,
      now: () => new Date(at),
      ids: [q.id],
      log: (line) => logs.push(line),
    });
    await until(() => stuck.calls.length === 1);
    expect(await row(q.id)).toMatchObject({
      status: "sending",
      attempts: 1,
      claimedUntil: new Date(at + lease),
    });

    const { transport, sent } = recordingTransport();
    const next = (now: number) =>
      dispatchDue(h().open(), { transport, box, config, now: () => new Date(now), ids: [q.id] });
    // While the claim holds, nobody else sends it.
    expect(await next(at + lease - 1)).toEqual({ sent: 0, retried: 0, failed: 0 });
    expect(await next(at + lease + 1)).toEqual({ sent: 1, retried: 0, failed: 0 });
    expect(sent.map((s) => s.to)).toEqual([q.recipient]);
    expect(await row(q.id)).toMatchObject({ status: "sent", attempts: 2, sentAt: new Date(at + lease + 1) });

    // The stuck dispatcher comes back: its claim is gone, so it records nothing.
    stuck.release();
    await crashed;
    expect(await row(q.id)).toMatchObject({ status: "sent", attempts: 2, sentAt: new Date(at + lease + 1) });
    expect(logs).toContainEqual(expect.objectContaining({ msg: "outbox claim lost", messageId: q.id }));
  });

  it("does not send a claim that ran out on the last allowed attempt: marks it failed", async () => {
    const at = Date.UTC(2031, 7, 1);
    const q = await queue(h().open(), at);
    const { db, t } = h().open();
    const { maxAttempts } = h().config.outbox;
    await db
      .update(t.outboxMessages)
      .set({ status: "sending", attempts: maxAttempts, claimedUntil: new Date(at - 1) })
      .where(eq(t.outboxMessages.id, q.id));
    const { transport, sent } = recordingTransport();
    expect(await pass(transport, at, { ids: [q.id] })).toEqual({ sent: 0, retried: 0, failed: 1 });
    expect(sent).toEqual([]);
    expect(await row(q.id)).toMatchObject({ status: "failed", lastError: "attempts_exhausted" });
  });

  it("sweeps sent and failed messages past the retention, never pending or sending ones", async () => {
    const start = Date.UTC(2032, 0, 1);
    const { retentionMs } = h().config.outbox;
    expect(retentionMs).toBe(7 * DAY);
    const db = h().open();
    const o = db.t.outboxMessages;
    const make = async (ageMs: number, status: "pending" | "sending" | "sent" | "failed") => {
      const q = await queue(db, start - ageMs);
      await db.db.update(o).set({ status }).where(eq(o.id, q.id));
      return q.id;
    };
    const old = {
      sent: await make(8 * DAY, "sent"),
      failed: await make(8 * DAY, "failed"),
      pending: await make(30 * DAY, "pending"),
      sending: await make(30 * DAY, "sending"),
    };
    const recent = { sent: await make(6 * DAY, "sent"), failed: await make(6 * DAY, "failed") };
    const all = [...Object.values(old), ...Object.values(recent)];
    const left = async () =>
      (await db.db.select({ id: o.id }).from(o).where(inArray(o.id, all))).map((r) => r.id).sort();

    const removed = await sweepExpired(db, new Date(start), { outboxRetentionMs: retentionMs });
    expect(removed.outboxMessages).toBeGreaterThanOrEqual(2);
    expect(await left()).toEqual([old.pending, old.sending, recent.sent, recent.failed].sort());
    // A shorter retention reaches the recent ones too; pending and sending still stay.
    await sweepExpired(db, new Date(start), { outboxRetentionMs: 5 * DAY });
    expect(await left()).toEqual([old.pending, old.sending].sort());
  });
}

/**
 * Webhooks: the routes (every backend) and the deliveries (Node backends, against a local
 * receiver; the runner passes it in, so this file has no node: import).
 */
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, expect, it } from "vitest";
import { createSecretBox, parseKeyring } from "../../functions/lib/secret-box";
import type { SecurityEventType } from "../../functions/security-events";
import { deliveryView, listDeliveries } from "../../functions/stores/webhooks";
import { dispatchWebhooks, webhookBackoffMs, webhookMaxAttempts } from "../../functions/webhooks/dispatch";
import { addMember, createTenant, type SignedUp, signUp } from "../support/fixtures";
import { api, expectStatus, type Harness } from "../support/harness";
import type { ReceivedRequest, WebhookReceiver } from "../support/webhook-receiver";

/** A URL that passes the creation checks and never resolves (RFC 6761 `.invalid`). */
const UNREACHABLE = "https://receiver.invalid/hook";

const hooks = (h: Harness, user: SignedUp) => api(h, user.token).v1.tenants[":tenantId"].webhooks;

type Subscription = (SecurityEventType | "*")[];

async function createWebhook(
  h: Harness,
  user: SignedUp,
  tenantId: string,
  url: string,
  events: Subscription = ["*"],
) {
  return expectStatus(hooks(h, user).$post({ param: { tenantId }, json: { url, events } }), 201);
}

async function deliveriesOf(h: Harness, user: SignedUp, tenantId: string, webhookId: string) {
  const page = await expectStatus(
    hooks(h, user)[":webhookId"].deliveries.$get({ param: { tenantId, webhookId }, query: { limit: "100" } }),
    200,
  );
  return page.deliveries;
}

async function tenantFeed(h: Harness, user: SignedUp, tenantId: string) {
  const feed = api(h, user.token).v1.tenants[":tenantId"]["security-events"];
  return (await expectStatus(feed.$get({ param: { tenantId }, query: { limit: "100" } }), 200)).events;
}

export function webhookRoutesSuite(h: () => Harness): void {
  it("creates a webhook (its secret shown once), lists it without the secret, deletes it once", async () => {
    const owner = await signUp(h());
    const tenantId = await createTenant(h(), owner);
    const created = await createWebhook(h(), owner, tenantId, UNREACHABLE, [
      "tenant.member_added",
      "tenant.member_added",
    ]);
    expect(created).toEqual({
      webhook: {
        id: expect.any(String),
        url: UNREACHABLE,
        events: ["tenant.member_added"],
        createdAt: expect.any(String),
      },
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]+=*$/),
    });
    // Standard Webhooks: 24 to 64 random bytes after the prefix.
    expect(atob(created.secret.slice("whsec_".length)).length).toBeGreaterThanOrEqual(24);
    const webhookId = created.webhook.id;
    const list = await expectStatus(hooks(h(), owner).$get({ param: { tenantId } }), 200);
    expect(list).toEqual({ webhooks: [created.webhook] });
    expect(JSON.stringify(list)).not.toContain(created.secret.slice(6, 20));

    const remove = (id: string) =>
      hooks(h(), owner)[":webhookId"].$delete({ param: { tenantId, webhookId: id } });
    await expectStatus(remove(webhookId.toUpperCase()), 204);
    await expectStatus(remove(webhookId), 404);
    await expectStatus(remove(crypto.randomUUID()), 404);
    await expectStatus(remove("not-a-uuid"), 400);
    expect(await expectStatus(hooks(h(), owner).$get({ param: { tenantId } }), 200)).toEqual({
      webhooks: [],
    });
    await expectStatus(
      hooks(h(), owner)[":webhookId"].deliveries.$get({ param: { tenantId, webhookId }, query: {} }),
      404,
    );

    const events = await tenantFeed(h(), owner, tenantId);
    expect(events.filter((e) => e.type.startsWith("webhook.")).map((e) => [e.type, e.metadata])).toEqual([
      ["webhook.deleted", { webhookId }],
      ["webhook.created", { webhookId }],
    ]);
  });

  it("refuses private, loopback and plain-http targets and malformed subscriptions with 400", async () => {
    const owner = await signUp(h());
    const tenantId = await createTenant(h(), owner);
    const post = (json: { url: string; events: string[] }) =>
      // @ts-expect-error: some event lists below are not event types on purpose.
      hooks(h(), owner).$post({ param: { tenantId }, json });
    for (const url of [
      "https://10.0.0.1/x",
      "https://127.0.0.1/x",
      "https://[::1]/x",
      "https://169.254.169.254/latest",
      "https://localhost/x",
      "https://192.168.1.20/x",
      "http://hooks.example.com/x",
      "http://127.0.0.1:8080/x",
      "https://user:pw@hooks.example.com/x",
      "ftp://hooks.example.com/x",
      "not a url",
    ]) {
      const refused = await expectStatus(post({ url, events: ["*"] }), 400);
      expect(refused.code, url).toBe("invalid_request");
      expect(
        refused.errors?.map((e: { path: string }) => e.path),
        url,
      ).toEqual(["url"]);
    }
    for (const events of [[], ["nope.never"], ["*", "auth.logout"]]) {
      await expectStatus(post({ url: UNREACHABLE, events }), 400);
    }
    expect(await expectStatus(hooks(h(), owner).$get({ param: { tenantId } }), 200)).toEqual({
      webhooks: [],
    });
  });

  it("lets only owners and admins manage webhooks", async () => {
    const owner = await signUp(h());
    const admin = await signUp(h());
    const member = await signUp(h());
    const outsider = await signUp(h());
    const tenantId = await createTenant(h(), owner);
    await addMember(h(), tenantId, owner, admin, "admin");
    await addMember(h(), tenantId, owner, member);
    const { webhook } = await createWebhook(h(), admin, tenantId, UNREACHABLE);
    for (const user of [member, outsider]) {
      const refused = await expectStatus(
        hooks(h(), user).$post({ param: { tenantId }, json: { url: UNREACHABLE, events: ["*"] } }),
        403,
      );
      expect(refused.code).toBe("forbidden");
      await expectStatus(hooks(h(), user).$get({ param: { tenantId } }), 403);
      const param = { tenantId, webhookId: webhook.id };
      await expectStatus(hooks(h(), user)[":webhookId"].deliveries.$get({ param, query: {} }), 403);
      await expectStatus(hooks(h(), user)[":webhookId"].$delete({ param }), 403);
    }
    const list = await expectStatus(hooks(h(), owner).$get({ param: { tenantId } }), 200);
    expect(list.webhooks.map((w) => w.id)).toEqual([webhook.id]);
  });

  it("writes one delivery per subscribed endpoint with each tenant event, and pages them", async () => {
    const owner = await signUp(h());
    const member = await signUp(h());
    const tenantId = await createTenant(h(), owner);
    const added = await createWebhook(h(), owner, tenantId, UNREACHABLE, ["tenant.member_added"]);
    const removed = await createWebhook(h(), owner, tenantId, UNREACHABLE, ["tenant.member_removed"]);
    const all = await createWebhook(h(), owner, tenantId, UNREACHABLE, ["*"]);
    // Another tenant's events never reach this tenant's endpoints.
    const other = await createTenant(h(), owner, "Other");
    await addMember(h(), other, owner, member);
    await addMember(h(), tenantId, owner, member);
    await h().settle();

    const events = await tenantFeed(h(), owner, tenantId);
    const memberAdded = events.find((e) => e.type === "tenant.member_added");
    const allCreated = events.find(
      (e) => e.type === "webhook.created" && e.metadata.webhookId === all.webhook.id,
    );
    const shape = (d: { eventId: string; eventType: string }) => [d.eventType, d.eventId];
    expect((await deliveriesOf(h(), owner, tenantId, added.webhook.id)).map(shape)).toEqual([
      ["tenant.member_added", memberAdded?.id],
    ]);
    expect(await deliveriesOf(h(), owner, tenantId, removed.webhook.id)).toEqual([]);
    // `*` gets every event of the tenant from its own creation on (the invitation, its
    // acceptance, the member's addition), newest first, as the feed shows them.
    const everything = await deliveriesOf(h(), owner, tenantId, all.webhook.id);
    const since = events.filter((e) => allCreated && e.id >= allCreated.id);
    expect(since.map((e) => e.type)).toEqual([
      "tenant.member_added",
      "tenant.invitation_accepted",
      "tenant.invitation_created",
      "webhook.created",
    ]);
    expect(everything.map(shape)).toEqual(since.map((e) => [e.type, e.id]));
    // A delivery's id is its event's: the same `webhook-id` on every retry.
    for (const d of everything) expect(d.id).toBe(d.eventId);
    for (const d of everything) {
      expect(d).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
        eventId: expect.any(String),
        eventType: expect.any(String),
        status: expect.stringMatching(/^(pending|delivered|failed)$/),
        attempts: expect.any(Number),
        lastStatusCode: null,
        nextAttemptAt: expect.toBeOneOf([null, expect.any(String)]),
        createdAt: expect.any(String),
      });
    }

    const pages = hooks(h(), owner)[":webhookId"].deliveries;
    const param = { tenantId, webhookId: all.webhook.id };
    const first = await expectStatus(pages.$get({ param, query: { limit: "1" } }), 200);
    expect(first.deliveries.map((d) => d.id)).toEqual([everything[0]?.id]);
    const paged = [...first.deliveries.map((d) => d.id)];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await expectStatus(pages.$get({ param, query: { limit: "1", cursor } }), 200);
      paged.push(...page.deliveries.map((d) => d.id));
      cursor = page.nextCursor;
    }
    expect(paged).toEqual(everything.map((d) => d.id));
    await expectStatus(pages.$get({ param, query: { limit: "0" } }), 400);
    await expectStatus(pages.$get({ param, query: { limit: "101" } }), 400);
    await expectStatus(pages.$get({ param, query: { cursor: "garbage" } }), 400);
  });
}

/**
 * Deliveries against `receiver()`, on a harness with APP_ENV=development (loopback allowed)
 * and a short receiver timeout. Each test uses its own receiver path.
 */
export function webhookDeliverySuite(h: () => Harness, receiver: () => WebhookReceiver): void {
  let path = "";
  const at = (p: string) => receiver().requests.filter((r) => r.path === p);
  const received = () => at(path);
  /** One dispatcher pass (the periodic pass's), at the harness clock, on a handle of its own. */
  const dispatch = (config = h().config) =>
    dispatchWebhooks(h().open(), {
      box: createSecretBox(parseKeyring(h().config.encryptionKeys)),
      config,
      now: () => new Date(h().clock.now()),
    });
  /**
   * Each test's start time, 100 days before the previous test's: a periodic pass of one test
   * then never finds another test's deliveries due (theirs wait in its future), while the
   * database is shared. Whole seconds, as `webhook-timestamp` is.
   */
  let T0 = Math.floor(Date.now() / 1000) * 1000 - 3650 * 86_400_000;
  /** A webhook's deliveries read from the database (the API needs a live session at the clock's time). */
  const stored = async (webhookId: string) =>
    (await listDeliveries(h().open(), webhookId, { limit: 100 })).map(deliveryView);

  beforeEach(() => {
    T0 -= 100 * 86_400_000;
    path = `/hook-${crypto.randomUUID()}`;
    receiver().respond = () => ({ status: 200 });
  });
  afterEach(async () => {
    receiver().respond = () => ({ status: 200 });
    await receiver()
      .start()
      .catch(() => {});
    await h().settle();
    h().clock.reset();
  });

  /** Its own creation and members joining: one event per added member (not the invitation's two). */
  const MEMBER_EVENTS: Subscription = ["webhook.created", "tenant.member_added"];
  const isMemberEvent = (type: string) => (MEMBER_EVENTS as string[]).includes(type);

  /** Owner, tenant and a `*` webhook to this test's path; its creation event is attempted at once. */
  async function setUp(events: Subscription = ["*"]) {
    const owner = await signUp(h());
    const tenantId = await createTenant(h(), owner);
    const created = await createWebhook(h(), owner, tenantId, receiver().url(path), events);
    await h().settle();
    const deliveries = () => deliveriesOf(h(), owner, tenantId, created.webhook.id);
    return { owner, tenantId, ...created, deliveries };
  }

  it("POSTs every subscribed event once, signed so the standardwebhooks package verifies it", async () => {
    const { owner, tenantId, secret, deliveries } = await setUp(MEMBER_EVENTS);
    const member = await signUp(h());
    await addMember(h(), tenantId, owner, member);
    await h().settle();
    // A periodic pass afterwards sends nothing again (the clock is real here: signatures are
    // checked against the real time).
    await dispatch();

    const events = (await tenantFeed(h(), owner, tenantId)).filter((e) => isMemberEvent(e.type));
    const listed = await deliveries();
    expect(received()).toHaveLength(2);
    expect(received().map((r) => JSON.parse(r.body).id)).toEqual(events.map((e) => e.id).reverse());
    for (const request of received()) {
      expect(request.headers["content-type"]).toBe("application/json");
      const body = new Webhook(secret).verify(request.body, request.headers) as Record<string, unknown>;
      const event = events.find((e) => e.id === body.id)!;
      expect(body).toEqual({
        id: event.id,
        type: event.type,
        createdAt: event.createdAt,
        tenantId,
        // The owner created the webhook; the member accepted the invitation that added them.
        actorUserId: event.type === "webhook.created" ? owner.userId : member.userId,
        requestId: event.requestId,
        metadata: event.metadata,
      });
      // The delivery id names the message, the same on every retry.
      expect(request.headers["webhook-id"]).toBe(listed.find((d) => d.eventId === event.id)?.id);
    }
    for (const d of listed) {
      expect(d).toMatchObject({ status: "delivered", attempts: 1, lastStatusCode: 200, nextAttemptAt: null });
    }
  });

  it("retries after 500s at 30 s, then doubling, with the same message, until a 2xx", async () => {
    h().clock.set(T0);
    receiver().respond = () => (received().length <= 3 ? { status: 500 } : { status: 200 });
    const { deliveries } = await setUp();
    const [first] = await deliveries();
    expect(first).toMatchObject({
      status: "pending",
      attempts: 1,
      lastStatusCode: 500,
      nextAttemptAt: new Date(T0 + 30_000).toISOString(),
    });
    h().clock.set(T0 + 29_999);
    expect(await dispatch()).toEqual({ delivered: 0, retried: 0, failed: 0 });
    for (const wait of [30_000, 90_000, 210_000]) {
      h().clock.set(T0 + wait);
      await dispatch();
    }
    expect(received().map((r) => Number(r.headers["webhook-timestamp"]) * 1000 - T0)).toEqual([
      0, 30_000, 90_000, 210_000,
    ]);
    expect(new Set(received().map((r) => r.headers["webhook-id"]))).toEqual(new Set([first?.id]));
    expect(new Set(received().map((r) => r.body)).size).toBe(1);
    expect(await deliveries()).toEqual([
      expect.objectContaining({ status: "delivered", attempts: 4, lastStatusCode: 200, nextAttemptAt: null }),
    ]);
  });

  it("counts a receiver that does not answer in time as a failed attempt", async () => {
    h().clock.set(T0);
    receiver().respond = () => (received().length === 1 ? "hang" : { status: 204 });
    const started = Date.now();
    const { deliveries } = await setUp();
    expect(Date.now() - started).toBeGreaterThanOrEqual(h().config.webhooks.timeoutMs);
    expect(await deliveries()).toEqual([
      expect.objectContaining({ status: "pending", attempts: 1, lastStatusCode: null }),
    ]);
    h().clock.set(T0 + 30_000);
    expect(await dispatch()).toEqual({ delivered: 1, retried: 0, failed: 0 });
    expect(await deliveries()).toEqual([
      expect.objectContaining({ status: "delivered", attempts: 2, lastStatusCode: 204 }),
    ]);
  });

  it("marks a delivery failed after retrying for at least 24 hours, and then stops", async () => {
    h().clock.set(T0);
    receiver().respond = () => ({ status: 503 });
    const { webhook, deliveries } = await setUp();
    const budget = webhookMaxAttempts(h().config);
    for (let guard = 0; guard < 100; guard++) {
      const [d] = await stored(webhook.id);
      if (d?.status !== "pending") break;
      h().clock.set(Date.parse(d.nextAttemptAt!));
      await dispatch();
    }
    const times = received().map((r) => Number(r.headers["webhook-timestamp"]) * 1000 - T0);
    expect(times).toHaveLength(budget);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps).toEqual(gaps.map((_, i) => webhookBackoffMs(h().config, i + 1)));
    expect(gaps[0]).toBe(30_000);
    // The last attempt is at least 24 h after the first; one attempt fewer would not be.
    expect(times.at(-1)).toBeGreaterThanOrEqual(24 * 3600_000);
    expect(times.at(-2)).toBeLessThan(24 * 3600_000);
    h().clock.set(T0 + 60_000);
    expect(await deliveries()).toEqual([
      expect.objectContaining({
        status: "failed",
        attempts: budget,
        lastStatusCode: 503,
        nextAttemptAt: null,
      }),
    ]);
    h().clock.set(T0 + 60 * 86_400_000);
    expect(await dispatch()).toEqual({ delivered: 0, retried: 0, failed: 0 });
    expect(received()).toHaveLength(budget);
  });

  it("loses nothing while the receiver is down: every event arrives once when it is back", async () => {
    h().clock.set(T0);
    await receiver().stop();
    const { owner, tenantId, deliveries } = await setUp(MEMBER_EVENTS);
    for (let i = 0; i < 2; i++) await addMember(h(), tenantId, owner, await signUp(h()));
    await h().settle();
    const waiting = await deliveries();
    expect(waiting.map((d) => [d.status, d.attempts, d.lastStatusCode])).toEqual([
      ["pending", 1, null],
      ["pending", 1, null],
      ["pending", 1, null],
    ]);
    await receiver().start();
    h().clock.set(T0 + 30_000);
    expect(await dispatch()).toEqual({ delivered: 3, retried: 0, failed: 0 });
    const events = (await tenantFeed(h(), owner, tenantId)).filter((e) => isMemberEvent(e.type));
    expect(
      received()
        .map((r) => JSON.parse(r.body).id)
        .sort(),
    ).toEqual(events.map((e) => e.id).sort());
    expect(new Set(received().map((r) => r.headers["webhook-id"])).size).toBe(3);
  });

  it("delivers each due attempt once when dispatchers run at the same time", async () => {
    h().clock.set(T0);
    receiver().respond = () => ({ status: 500 });
    const { owner, tenantId, deliveries } = await setUp(MEMBER_EVENTS);
    for (let i = 0; i < 3; i++) await addMember(h(), tenantId, owner, await signUp(h()));
    await h().settle();
    expect(received()).toHaveLength(4);
    receiver().respond = () => ({ status: 200 });
    h().clock.set(T0 + 30_000);
    const results = await Promise.all([dispatch(), dispatch(), dispatch(), dispatch()]);
    expect(results.reduce((n, r) => n + r.delivered + r.retried + r.failed, 0)).toBe(4);
    const retried = received().slice(4);
    expect(retried).toHaveLength(4);
    expect(new Set(retried.map((r: ReceivedRequest) => r.headers["webhook-id"])).size).toBe(4);
    for (const d of await deliveries()) expect(d).toMatchObject({ status: "delivered", attempts: 2 });
  });

  it("counts a redirect as a failure and never follows it", async () => {
    h().clock.set(T0);
    const elsewhere = `/elsewhere-${crypto.randomUUID()}`;
    receiver().respond = () => ({ status: 302, headers: { location: receiver().url(elsewhere) } });
    const { deliveries } = await setUp();
    expect(await deliveries()).toEqual([
      expect.objectContaining({ status: "pending", attempts: 1, lastStatusCode: 302 }),
    ]);
    expect(received()).toHaveLength(1);
    expect(at(elsewhere)).toEqual([]);
  });

  it("checks the target again at delivery: a loopback URL is not called outside development", async () => {
    h().clock.set(T0);
    receiver().respond = () => ({ status: 500 });
    const { deliveries } = await setUp();
    h().clock.set(T0 + 30_000);
    const production = { ...h().config, appEnv: "production" as const };
    expect(await dispatch(production)).toEqual({ delivered: 0, retried: 1, failed: 0 });
    expect(received()).toHaveLength(1);
    expect(await deliveries()).toEqual([
      expect.objectContaining({ status: "pending", attempts: 2, lastStatusCode: null }),
    ]);
  });

  it("still refuses private addresses in development", async () => {
    const owner = await signUp(h());
    const tenantId = await createTenant(h(), owner);
    for (const url of ["https://10.0.0.1/x", "http://192.168.0.1/x", "http://hooks.example.com/x"]) {
      await expectStatus(hooks(h(), owner).$post({ param: { tenantId }, json: { url, events: ["*"] } }), 400);
    }
  });
}

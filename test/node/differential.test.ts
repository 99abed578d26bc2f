/**
 * Differential check: libSQL and Postgres must answer the same request with the same status
 * (and, for a problem, the same code). Each backend gets the same user state, built the same way
 * at the same fixed clock: an owner with a TOTP factor and a tenant, a member of that tenant, and
 * a stranger. Each request is generated once, against the libSQL ids, and replayed on Postgres with
 * every id mapped to its Postgres twin in the same letter case; the two then go on in step, so
 * a disagreement shows at the first request that causes it. First the cases that disagreed
 * before ids were lower-cased at validation (an upper-case tenant id was 403 on libSQL and 200 on
 * Postgres; deleting your own session by its upper-case id 404 and 204), then generated
 * requests (a new seed each run, printed; FUZZ_SEED=<n> replays, DIFF_RUNS sets the count).
 * Postgres missing: a failure in CI, a plain "SKIPPED" line on a laptop.
 */
import { createClient } from "@libsql/client";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { libsqlDatabase } from "../../db/dialect";
import {
  type Backend,
  NODE_BACKENDS,
  type NodeBackendName,
  openNodeBackend,
  PG_HOST,
  PG_PORT,
  tcpReachable,
} from "../support/backends";
import { mintSession } from "../support/db-audit";
import { addMember, createTenant, type SignedUp, signUp } from "../support/fixtures";
import {
  type FuzzRequest,
  flawedRequestsFor,
  fuzzSeed,
  type Known,
  type Operation,
  operationsOf,
  requestsFor,
} from "../support/fuzz-requests";
import { call, type Harness, makeHarness } from "../support/harness";
import { enrollTotp, stepStart } from "../support/mfa";
import { requireService, skipWithout } from "../support/services";

const SEED = fuzzSeed("test/node/differential.test.ts");
const RUNS = Number(process.env.DIFF_RUNS ?? 200);

const docApp = makeHarness({
  backend: "doc",
  open: () => libsqlDatabase(createClient({ url: ":memory:" })),
  env: { APP_ENV: "development" },
});
const OPERATIONS = operationsOf((await call(docApp, "GET", "/openapi.json")).body);
const postgresUp = await tcpReachable(PG_HOST, PG_PORT);

/** One backend with the shared user state. */
interface Side {
  backend: Backend;
  h: Harness;
  owner: SignedUp;
  member: SignedUp;
  /** Shares nothing with the owner. */
  stranger: SignedUp;
  /** In a fixed order, the same on every side: owner, owner's session, factor, tenant, member, stranger. */
  ids: string[];
}

/** What is compared: the status, and a problem's code. */
type Answer = { status: number; code?: string };

/** `id` in the letter case of `pattern` (an id of the other side, as it appeared in the request). */
function sameCase(pattern: string, id: string): string {
  if (pattern === pattern.toLowerCase()) return id.toLowerCase();
  if (pattern === pattern.toUpperCase()) return id.toUpperCase();
  return [...id].map((c, i) => (/[A-F]/.test(pattern[i] ?? "") ? c.toUpperCase() : c)).join("");
}

/** `text` with every id of `from` (in any case) replaced by the id of `to` at the same place. */
function mapIds(text: string, from: string[], to: string[]): string {
  return from.reduce(
    (out, id, i) => out.replace(new RegExp(id, "gi"), (seen) => sameCase(seen, to[i]!)),
    text,
  );
}

/** Whether `op` takes an id: a path parameter, or a UUID in its query or body. */
function takesId(op: Operation): boolean {
  const bodyIds = Object.values((op.body?.properties ?? {}) as Record<string, { format?: string }>);
  return (
    op.pathParams.length > 0 ||
    op.query.some((q) => q.schema.format === "uuid") ||
    bodyIds.some((p) => p.format === "uuid")
  );
}

describe.skipIf(skipWithout("Postgres", postgresUp))("libSQL and Postgres answer alike", () => {
  const sides = new Map<NodeBackendName, Side>();
  const [first] = NODE_BACKENDS;
  const start = stepStart(); // one fixed clock for both sides: same TOTP step, same rate-limit windows
  let known: Known = { ids: [], emails: [] };

  async function prepare(name: NodeBackendName): Promise<Side> {
    const backend = await openNodeBackend(name);
    const h = makeHarness({ backend: name, open: backend.open, env: { APP_ENV: "development" } });
    h.clock.set(start);
    // Fixed addresses (each side is a fresh database): a seed replays exactly.
    const owner = await signUp(h, { email: "diff-owner@example.test" });
    const member = await signUp(h, { email: "diff-member@example.test" });
    const stranger = await signUp(h, { email: "diff-stranger@example.test" });
    const { factorId } = await enrollTotp(h, owner);
    const tenantId = await createTenant(h, owner, "Differential");
    await addMember(h, tenantId, owner, member);
    const ids = [owner.userId, owner.sessionId, factorId, tenantId, member.userId, stranger.userId];
    return { backend, h, owner, member, stranger, ids };
  }

  beforeAll(async () => {
    requireService("Postgres", postgresUp);
    for (const name of NODE_BACKENDS) sides.set(name, await prepare(name));
    const base = sides.get(first!)!;
    known = { ids: base.ids, emails: [base.owner.email, base.member.email, base.stranger.email] };
  });
  afterAll(async () => {
    for (const side of sides.values()) await side.backend.close();
  });

  type Who = "owner" | "member" | "stranger";

  /**
   * Sends `req` (written with the first side's ids) to one side, its ids mapped. A "session"
   * request gets a fresh session of `who`, or with `current` the one `who` signed up with.
   */
  async function send(side: Side, req: FuzzRequest, who: Who, current: boolean): Promise<Answer> {
    const base = sides.get(first!)!;
    const headers = new Headers(req.headers);
    if (req.auth.kind === "session") {
      const token = current ? side[who].token : await mintSession(side.h, side[who].userId);
      headers.set("authorization", `Bearer ${token}`);
    } else if (req.auth.kind === "raw") {
      headers.set("authorization", req.auth.value);
    }
    const body = typeof req.body === "string" ? mapIds(req.body, base.ids, side.ids) : req.body;
    const res = await side.h.app.request(
      new Request(`http://localhost${mapIds(req.url, base.ids, side.ids)}`, {
        method: req.method,
        headers,
        ...(body !== null ? { body: body as BodyInit } : {}),
      }),
    );
    const text = await res.text();
    let code: string | undefined;
    try {
      code = res.status >= 400 ? JSON.parse(text).code : undefined;
    } catch {
      code = "(not JSON)";
    }
    side.h.clock.advance(1_000); // both sides alike
    return code === undefined ? { status: res.status } : { status: res.status, code };
  }

  /** Sends `req` to every side in turn; their answers must agree. */
  async function agree(req: FuzzRequest, who: Who = "owner", current = false): Promise<Answer> {
    const answers: Record<string, Answer> = {};
    for (const [name, side] of sides) answers[name] = await send(side, req, who, current);
    const [expected, ...others] = Object.values(answers);
    for (const other of others) {
      expect(other, `${req.method} ${req.url} ${JSON.stringify(answers)}`).toEqual(expected);
    }
    return expected!;
  }

  const get = (url: string): FuzzRequest => ({
    method: "GET",
    url,
    auth: { kind: "session" },
    headers: {},
    body: null,
  });
  const upper = (i: number) => known.ids[i]!.toUpperCase();

  it("an upper-case tenant id: the owner and a member get in (200), a stranger does not (403), alike", async () => {
    expect(await agree(get(`/v1/usage?tenantId=${upper(3)}`))).toEqual({ status: 200 });
    expect(await agree(get(`/v1/consents?tenantId=${upper(3)}`))).toEqual({ status: 200 });
    expect(await agree(get(`/v1/tenants/${upper(3)}/security-events`))).toEqual({ status: 200 });
    const counted = await agree({
      method: "POST",
      url: "/v1/usage",
      auth: { kind: "session" },
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ feature: "api", quantity: 2, tenantId: upper(3) }),
    });
    expect(counted.status).toBe(200);
    expect((await agree(get(`/v1/usage?tenantId=${upper(3)}`), "member")).status).toBe(200);
    expect((await agree(get(`/v1/usage?tenantId=${upper(3)}`), "stranger")).status).toBe(403);
  });

  it("deleting your current session by its upper-case id: 204, then 401 (the session is gone), alike", async () => {
    const del: FuzzRequest = {
      method: "DELETE",
      url: `/v1/auth/sessions/${upper(1)}`,
      auth: { kind: "session" },
      headers: {},
      body: null,
    };
    expect(await agree(del, "owner", true)).toEqual({ status: 204 });
    expect((await agree(del, "owner", true)).status).toBe(401);
    expect((await agree(del)).status).toBe(404);
  });

  it(
    `${RUNS} generated requests (hostile, near-valid, flawed): the same status and code on both`,
    async () => {
      // Operations that take an id (path, query or body) weigh more: ids are where backends differ.
      const request = fc.oneof(
        ...OPERATIONS.flatMap((op) =>
          (op.secured ? [true, false] : [false]).map((withSession) => ({
            weight: takesId(op) && withSession ? 4 : 1,
            arbitrary: fc.oneof(
              { weight: 1, arbitrary: requestsFor(op, known, withSession) },
              { weight: 2, arbitrary: flawedRequestsFor(op, known, withSession) },
            ),
          })),
        ),
      );
      await fc.assert(
        fc.asyncProperty(request, async (req) => {
          await agree(req);
        }),
        // Requests change the state both sides share: a failing one cannot be shrunk on its own.
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    },
    Math.max(60_000, RUNS * 200),
  );
});

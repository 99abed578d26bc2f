/**
 * Hostile input on every endpoint the OpenAPI document lists, generated with fast-check (a new
 * seed each run, printed at the start and in any failure; FUZZ_SEED=<n> replays a run, FUZZ_RUNS
 * sets its length): generated JSON and non-JSON bodies, junk headers and query strings, random
 * and existing path ids (also in upper case), strings and keys carrying U+0000, unpaired
 * surrogates or control characters, with and without a valid session. Every answer must be a
 * 2xx, or a 4xx problem document whose requestId is the X-Request-Id header; never a 5xx.
 * Afterwards the database must hold no secret sent in clear (nor hex or base64 encoded), no
 * string a database cannot hold (nor a U+FFFD no request sent: a driver's silent stand-in for an
 * unpaired surrogate), and no row that validation should have kept out. libSQL with full runs;
 * Postgres with fewer.
 */
import { Buffer } from "node:buffer";
import { createClient } from "@libsql/client";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { libsqlDatabase } from "../../db/dialect";
import { Email } from "../../functions/auth/schemas";
import { PROBLEMS } from "../../functions/http/problems";
import {
  type Backend,
  type NodeBackendName,
  openNodeBackend,
  PG_HOST,
  PG_PORT,
  tcpReachable,
} from "../support/backends";
import { dumpTables, findInDump, mintSession, storedNuls } from "../support/db-audit";
import { createTenant, type SignedUp, signUp } from "../support/fixtures";
import {
  type FuzzRequest,
  flawedRequestsFor,
  fuzzSeed,
  type Known,
  operationsOf,
  requestsFor,
  SECRET_FIELDS,
  SECRET_MARK,
} from "../support/fuzz-requests";
import { call, type Harness, makeHarness } from "../support/harness";
import { enrollTotp } from "../support/mfa";
import { requireService, skipWithout } from "../support/services";

const SEED = fuzzSeed("test/node/fuzz.test.ts");
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
/** Near-valid requests with one flaw, per operation, on top of RUNS (Postgres: the same number). */
const FLAWED_RUNS = Math.ceil(RUNS / 5);
/** Routes that hash a password (scrypt, ~0.1 s) for every well-formed request: fewer runs. */
const HASHING = new Set(["POST /v1/auth/register", "POST /v1/auth/login"]);
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SLUG = /^[a-z0-9_.-]{1,64}$/;
// An independent copy of the rule in functions/http/strings.ts, so the audit still sees what a
// weakened rule lets through.
const UNPAIRED = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const isUnstorable = (text: string) => text.includes("\u0000") || UNPAIRED.test(text);

/**
 * Calls `visit` with every string and key in `value` and where it sits (table.row.column…), down
 * to 16 levels (deeply nested junk bodies are refused, never stored).
 */
function eachString(
  value: unknown,
  path: string,
  visit: (where: string, text: string) => void,
  depth = 0,
): void {
  if (typeof value === "string") visit(path, value);
  else if (value && typeof value === "object" && depth < 16) {
    for (const [k, v] of Object.entries(value)) {
      visit(`${path} key`, k);
      eachString(v, `${path}.${k}`, visit, depth + 1);
    }
  }
}

/** `piece` percent-decoded as a lenient server would: an invalid UTF-8 sequence becomes U+FFFD. */
function lenientDecode(piece: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < piece.length; ) {
    const hex = /^%[0-9a-f]{2}/i.exec(piece.slice(i));
    if (hex) {
      bytes.push(Number.parseInt(hex[0].slice(1), 16));
      i += 3;
    } else {
      const ch = String.fromCodePoint(piece.codePointAt(i)!);
      bytes.push(...new TextEncoder().encode(ch));
      i += ch.length;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

// The operation list comes from the app's own document (development: the dev outbox included).
const docApp = makeHarness({
  backend: "doc",
  open: () => libsqlDatabase(createClient({ url: ":memory:" })),
  env: { APP_ENV: "development" },
});
const OPERATIONS = operationsOf((await call(docApp, "GET", "/openapi.json")).body);
const postgresUp = await tcpReachable(PG_HOST, PG_PORT);

/** Marked secrets in a request body (deeply nested junk is cut off: secrets sit near the top). */
function collectSecrets(value: unknown, into: Set<string>, key = "", depth = 0): void {
  if (depth > 8) return;
  if (typeof value === "string") {
    if (SECRET_FIELDS.has(key) && value.includes(SECRET_MARK)) into.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collectSecrets(v, into, key, depth + 1);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) collectSecrets(v, into, k, depth + 1);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function fuzzSuite(name: NodeBackendName, runs: number, flawedRuns: number): void {
  let backend: Backend | undefined;
  let h: Harness;
  let user: SignedUp;
  let known: Known = { ids: [], emails: [] };
  const secrets = new Set<string>();
  /** Strings sent holding U+FFFD (lower case): the only ones a stored U+FFFD may come from. */
  const replacementsSent: string[] = [];

  beforeAll(async () => {
    if (name === "postgres") requireService("Postgres", postgresUp);
    backend = await openNodeBackend(name);
    h = makeHarness({ backend: name, open: backend.open, env: { APP_ENV: "development" } });
    user = await signUp(h);
    const { factorId } = await enrollTotp(h, user);
    const tenantId = await createTenant(h, user);
    const other = await signUp(h); // a user who exists but shares nothing with the caller
    known = {
      ids: [user.userId, user.sessionId, factorId, tenantId, other.userId],
      emails: [user.email, other.email],
    };
  });
  afterAll(async () => {
    await backend?.close();
  });

  async function send(req: FuzzRequest) {
    const headers = new Headers(req.headers);
    if (req.auth.kind === "session") {
      const token = await mintSession(h, user.userId); // fresh each time: logout may revoke it
      secrets.add(token);
      headers.set("authorization", `Bearer ${token}`);
    } else if (req.auth.kind === "raw") {
      headers.set("authorization", req.auth.value);
      if (req.auth.value.includes(SECRET_MARK)) secrets.add(req.auth.value.replace(/^Bearer /, ""));
    }
    if (typeof req.body === "string") collectSecrets(parseJson(req.body), secrets);
    // What was sent holding U+FFFD may be stored holding it; anything else holding it was changed.
    const sentFffd = req.url.split(/[/?&=]/).map(lenientDecode);
    if (typeof req.body === "string") eachString(parseJson(req.body), "", (_, text) => sentFffd.push(text));
    for (const text of sentFffd) if (text.includes("\ufffd")) replacementsSent.push(text.toLowerCase());
    const request = new Request(`http://localhost${req.url}`, {
      method: req.method,
      headers,
      ...(req.body !== null ? { body: req.body as BodyInit } : {}),
    });
    const sentId = request.headers.get("x-request-id");
    const res = await h.app.request(request);
    const text = await res.text();
    return { res, text, sentId };
  }

  function check({ res, text, sentId }: Awaited<ReturnType<typeof send>>) {
    const where = `${res.status} ${text.slice(0, 300)}`;
    expect(res.status, where).toBeLessThan(500);
    const id = res.headers.get("x-request-id") ?? "";
    if (sentId !== null && REQUEST_ID.test(sentId)) expect(id).toBe(sentId);
    else expect(id, "a fresh id replaces a missing or malformed one").toMatch(UUID);
    const body = parseJson(text) as Record<string, unknown> | undefined;
    if (res.status >= 400) {
      expect(res.headers.get("content-type"), where).toMatch(/^application\/problem\+json/);
      expect(Object.keys(PROBLEMS), where).toContain(body?.code);
      expect(body?.status, where).toBe(res.status);
      expect(body?.requestId, where).toBe(id);
    } else if (text) {
      expect(body, where).toBeDefined();
      // What the app hands out once (tokens, TOTP secrets, recovery codes) is stored hashed or
      // encrypted, never in clear.
      const issued = body as {
        session?: { token?: string };
        challenge?: { token?: string };
        secret?: string;
        recoveryCodes?: string[] | object;
      };
      const handedOut = [
        issued.session?.token,
        issued.challenge?.token,
        issued.secret,
        // (The account export's `recoveryCodes` is a count, not codes.)
        ...(Array.isArray(issued.recoveryCodes) ? issued.recoveryCodes : []),
      ];
      for (const value of handedOut) if (typeof value === "string") secrets.add(value);
    }
  }

  for (const op of OPERATIONS) {
    const label = `${op.method} ${op.path}`;
    const [n, flawed] = HASHING.has(label)
      ? [Math.ceil(runs / 2), Math.ceil(flawedRuns / 2)]
      : [runs, flawedRuns];
    for (const withSession of op.secured ? [false, true] : [false]) {
      it(`${label}${withSession ? " (valid session)" : ""}: 2xx or a 4xx problem, never 5xx`, async () => {
        await fc.assert(
          fc.asyncProperty(requestsFor(op, known, withSession), async (req) => check(await send(req))),
          { numRuns: n, seed: SEED, endOnFailure: true },
        );
        // Near-valid but for one flaw (U+0000, an unpaired surrogate or a control character in one
        // string, or every id in upper case): the flaw alone decides the answer.
        await fc.assert(
          fc.asyncProperty(flawedRequestsFor(op, known, withSession), async (req) => check(await send(req))),
          { numRuns: flawed, seed: SEED, endOnFailure: true },
        );
      });
    }
  }

  it("any method on any path (listed or not): 2xx, or a 4xx problem such as 404/405", async () => {
    const listed = [...new Set(OPERATIONS.map((o) => o.path))];
    const path = fc.oneof(
      fc.tuple(fc.constantFrom(...listed), fc.uuid()).map(([p, id]) => p.replace(/\{\w+\}/g, id)),
      fc.webPath(),
      fc.string({ unit: "grapheme", maxLength: 30 }).map((t) => `/v1/${encodeURIComponent(t)}`),
      fc.constantFrom(`/${"a".repeat(10_000)}`, "/v1//me", "/v1/me/", "//", "/v1/../v1/me", "/%2e%2e/v1/me"),
    );
    const method = fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    const request = fc.record({ method, path, session: fc.boolean() }).map(
      ({ method, path, session }): FuzzRequest => ({
        method,
        url: path,
        auth: { kind: session ? "session" : "none" },
        headers: { "content-type": "application/json" },
        body: method === "GET" ? null : "{}",
      }),
    );
    await fc.assert(
      fc.asyncProperty(request, async (req) => check(await send(req))),
      { numRuns: runs * 2, seed: SEED, endOnFailure: true },
    );
  });

  it("leaves no secret in clear and nothing validation should have kept out", async () => {
    expect(secrets.size).toBeGreaterThan(0);
    const dump = await dumpTables(h);
    expect(findInDump(dump, [user.email]), "the scan finds what is stored in clear").not.toEqual([]);
    // ... and what is stored encoded, wherever it sits in a longer value.
    const probe = `${SECRET_MARK}-probe-${crypto.randomUUID()}`;
    const bytes = new TextEncoder().encode(`ab${probe}`);
    const encoded = new Map([
      ["hex", Buffer.from(bytes).toString("hex").toUpperCase()],
      ["base64", JSON.stringify(Buffer.from(bytes).toString("base64"))],
      ["base64url", JSON.stringify({ v: Buffer.from(bytes.subarray(1)).toString("base64url") })],
    ]);
    expect(findInDump(encoded, [probe]).map((f) => f.table)).toEqual(["hex", "base64", "base64url"]);
    expect(findInDump(dump, secrets)).toEqual([]);
    const held: string[] = [];
    const replaced: string[] = [];
    for (const [table, text] of dump) {
      eachString(JSON.parse(text), table, (where, value) => {
        if (isUnstorable(value)) held.push(`${where}: ${JSON.stringify(value)}`);
        const lower = value.toLowerCase();
        if (value.includes("\ufffd") && !replacementsSent.some((sent) => sent.includes(lower))) {
          replaced.push(`${where}: ${JSON.stringify(value)}`);
        }
      });
    }
    expect(held, "strings no database can hold as sent").toEqual([]);
    // An unpaired surrogate that got through is stored as U+FFFD (by the driver, silently).
    expect(replaced, "stored strings holding U+FFFD that no request sent").toEqual([]);
    expect(await storedNuls(h), "text holding U+0000 (libSQL reads cut it off there)").toEqual([]);
    const { db, t } = h.open();
    for (const { email } of await db.select({ email: t.users.email }).from(t.users)) {
      expect(Email.safeParse(email).data, `stored email ${JSON.stringify(email)}`).toBe(email);
    }
    for (const row of await db.select().from(t.usageCounters)) {
      expect(row.feature).toMatch(SLUG);
      expect(row.total).toBeGreaterThan(0);
    }
    for (const row of await db.select().from(t.userConsents)) {
      expect(row.policy).toMatch(SLUG);
      expect([...row.version].length).toBeGreaterThanOrEqual(1);
      expect([...row.version].length).toBeLessThanOrEqual(32);
    }
    for (const row of await db.select().from(t.userNotificationPreferences)) {
      expect(row.category).toMatch(SLUG);
      expect(["email", "sms", "push", "in_app"]).toContain(row.channel);
    }
  });
}

describe("[libsql] hostile input", () => fuzzSuite("libsql", RUNS, FLAWED_RUNS));
describe.skipIf(skipWithout("Postgres", postgresUp))("[postgres] hostile input (fewer runs)", () =>
  fuzzSuite("postgres", Math.max(4, Math.ceil(RUNS / 8)), FLAWED_RUNS),
);

/**
 * Builds the app the way an entry does, from a backend's database opener, with a controllable
 * clock, captured log lines and a test platform adapter for the client IP. Runs in Node and in
 * workerd alike (no node: imports), so the same suites run on every backend.
 */
import { type ClientResponse, hc } from "hono/client";
import { expect } from "vitest";
import type { Database } from "../../db/database";
import { type App, type AppType, createApp } from "../../functions/app";
import { type Config, loadConfig } from "../../functions/config";
import type { MailTransport } from "../../functions/mail/types";
import { createSqlRateLimiter } from "../../functions/ratelimit/sql";
import type { RateLimiter } from "../../functions/ratelimit/types";

export interface TestClock {
  now(): number;
  set(ms: number): void;
  advance(ms: number): void;
  /** Back to the real time. */
  reset(): void;
}

export function createClock(): TestClock {
  let fixed: number | null = null;
  return {
    now: () => fixed ?? Date.now(),
    set: (ms) => {
      fixed = ms;
    },
    advance: (ms) => {
      fixed = (fixed ?? Date.now()) + ms;
    },
    reset: () => {
      fixed = null;
    },
  };
}

function randomBase64(bytes: number): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(bytes))));
}

/** A valid configuration with fresh random secrets, plus overrides. */
export function testConfig(env: Record<string, string> = {}, overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({
      APP_ENV: "test",
      IP_HASH_KEY: randomBase64(32),
      ENCRYPTION_KEYS: `k1:${randomBase64(32)}`,
      RATE_LIMIT_STORE: "sql",
      // Suites register hundreds of accounts from one test address; the registration limit has
      // its own tests (limits.suite.ts), which set it low.
      RATE_LIMIT_REGISTER_PER_NETWORK: "100000/3600",
      ...env,
    }),
    ...overrides,
  };
}

/** Header through which tests choose the client IP (the test platform's "socket address"). */
export const TEST_IP_HEADER = "x-test-client-ip";
export const DEFAULT_TEST_IP = "203.0.113.7";

/**
 * What a database's front door saw since the start (Postgres in workerd: test/support/
 * workers-postgres.ts), counted outside the app: Neon's HTTP stand-in counts requests.
 */
export interface WireTotals {
  /** HTTP requests the SQL-over-HTTP stand-in answered for the database. */
  httpRequests: number;
}

export interface Harness {
  backend: string;
  app: App;
  config: Config;
  clock: TestClock;
  logs: Record<string, unknown>[];
  /** A fresh handle for direct inspection (own statement counter). */
  open(): Database;
  /** The database handle of the latest request served (statement counts). */
  lastRequestDb(): Database | undefined;
  /** The database's wire totals, where the backend counts them (Postgres in workerd). */
  wire?: () => Promise<WireTotals>;
  /**
   * Answers whose status the OpenAPI document does not declare for their operation, as
   * "METHOD /path STATUS". Every suite asserts after each test that this stays empty, so the
   * document lists every error an operation really answers.
   */
  undeclared: string[];
  /**
   * Waits for the work the served requests started after their responses (sending the messages
   * they queued), including work started meanwhile.
   */
  settle(): Promise<void>;
}

export interface HarnessOptions {
  backend: string;
  open: () => Database;
  env?: Record<string, string>;
  config?: Partial<Config>;
  rateLimiter?: (db: Database, clock: TestClock) => RateLimiter;
  /** Sends queued messages after each response (default: none, messages stay in the outbox). */
  mailTransport?: MailTransport;
  wire?: () => Promise<WireTotals>;
}

type Declared = Map<string, Set<string>>;

/** "METHOD /openapi/{path}" → its declared statuses, from the app's own document. */
function declaredStatuses(app: App): Declared {
  const doc = app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "test", version: "0" } });
  const declared: Declared = new Map();
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(ops as Record<string, { responses?: object }>)) {
      declared.set(`${method.toUpperCase()} ${path}`, new Set(Object.keys(op.responses ?? {})));
    }
  }
  return declared;
}

/** Checks a request log line against the document; a line of no documented operation (404, 405) is skipped. */
function checkDeclared(declared: () => Declared, line: Record<string, unknown>, undeclared: string[]) {
  if (line.msg !== "request" || typeof line.route !== "string") return;
  const operation = `${line.method} ${line.route.replace(/:(\w+)/g, "{$1}")}`;
  const statuses = declared().get(operation);
  if (statuses && !statuses.has(String(line.status))) undeclared.push(`${operation} ${line.status}`);
}

export function makeHarness(opts: HarnessOptions): Harness {
  const clock = createClock();
  const logs: Record<string, unknown>[] = [];
  const undeclared: string[] = [];
  let declared: Declared | undefined;
  const config = testConfig(opts.env, opts.config);
  let last: Database | undefined;
  const background: Promise<void>[] = [];
  const app = createApp({
    config,
    database: () => {
      last = opts.open();
      return last;
    },
    rateLimiter: (db) =>
      opts.rateLimiter ? opts.rateLimiter(db, clock) : createSqlRateLimiter(db, clock.now),
    // "none" stands for a platform that gives no client address.
    clientIp: (c) => {
      const ip = c.req.header(TEST_IP_HEADER) ?? DEFAULT_TEST_IP;
      return ip === "none" ? null : ip;
    },
    now: clock.now,
    log: (line) => {
      logs.push(line);
      if (process.env.TEST_PRINT_ERRORS && line.level === "error") console.error(JSON.stringify(line));
      checkDeclared(() => (declared ??= declaredStatuses(app)), line, undeclared);
    },
    ...(opts.mailTransport ? { mailTransport: opts.mailTransport } : {}),
    defer: (work) => {
      background.push(work);
    },
  });
  return {
    backend: opts.backend,
    app,
    config,
    clock,
    logs,
    open: opts.open,
    lastRequestDb: () => last,
    ...(opts.wire ? { wire: opts.wire } : {}),
    undeclared,
    settle: async () => {
      while (background.length > 0) await Promise.all(background.splice(0));
    },
  };
}

/** What the latest request waited for, from its log line (after-response work is not in it). */
export interface RequestCost {
  statements: number;
  /** Round trips to the database, the SQL rate-limit store's included (it uses the same handle). */
  roundTrips: number;
  /** Round trips to the rate-limit store. */
  limiterRoundTrips: number;
  /** Round trips of the app's own work: `roundTrips` without the SQL store's (the harness's default store). */
  appRoundTrips: number;
}

export function lastRequestCost(h: Harness): RequestCost {
  const line = [...h.logs].reverse().find((l) => l.msg === "request");
  if (!line) throw new Error("no request was served");
  const statements = Number(line.statements);
  const roundTrips = Number(line.roundTrips);
  const limiterRoundTrips = Number(line.limiterRoundTrips);
  return { statements, roundTrips, limiterRoundTrips, appRoundTrips: roundTrips - limiterRoundTrips };
}

/**
 * The typed client (hono/client) over the harness's app: paths, inputs and per-status answers
 * are checked against the route schemas at compile time. `token` authenticates every call.
 */
export function api(h: Harness, token?: string, headers: Record<string, string> = {}) {
  return hc<AppType>("http://api.test", {
    fetch: (input: RequestInfo | URL, init?: RequestInit) => h.app.request(input, init),
    headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
}

// biome-ignore lint/suspicious/noExplicitAny: any typed answer.
type AnyAnswer = ClientResponse<any, number, any>;
type BodyAt<R, S> = R extends ClientResponse<infer T, infer U, infer _F> ? (U extends S ? T : never) : never;

/**
 * Awaits a typed-client call, asserts its status, and returns its body typed as the document
 * declares it for that status (undefined for an empty answer such as 204).
 */
export async function expectStatus<R extends AnyAnswer, S extends R["status"]>(
  call: R | Promise<R>,
  status: S,
): Promise<BodyAt<R, S>> {
  const res = await call;
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return (text ? JSON.parse(text) : undefined) as BodyAt<R, S>;
}

export interface CallOptions {
  json?: unknown;
  body?: BodyInit;
  token?: string;
  headers?: Record<string, string>;
}

/** Sends a request through `app.request` and returns the response with its parsed body. */
export async function call(
  h: Harness,
  method: string,
  path: string,
  opts: CallOptions = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies of many shapes.
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { ...opts.headers };
  let body = opts.body;
  if (opts.json !== undefined) {
    headers["content-type"] ??= "application/json";
    body = JSON.stringify(opts.json);
  }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await h.app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON (HTML docs page): keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/**
 * What the app is built from (AppDeps) and what every request carries (RequestScope). Entries
 * turn their platform into AppDeps; nothing below the entries knows which platform it runs on.
 * Flows and stores take a RequestScope (or a Database) as a plain value: they never see Hono.
 */
import type { Context } from "hono";
import type { Database } from "../db/database";
import type { Config } from "./config";
import type { DocsAssetReader } from "./http/docs-page";
import type { KeyedHasher } from "./lib/keyed-hash";
import type { SecretBox } from "./lib/secret-box";
import type { MailTransport } from "./mail/types";
import type { CountedRateLimiter, RateLimiter } from "./ratelimit/types";
import type { ResolveHost } from "./webhooks/target";

export interface AppDeps {
  config: Config;
  /** Opens the database for one request. `close()` runs after the response (in waitUntil where there is one). */
  database(c: Context): Database;
  /** The rate limiter for this request (Upstash: shared; SQL store: on the request's database). */
  rateLimiter(db: Database): RateLimiter;
  /** The client's IP as the platform reports it (CF-Connecting-IP, Lambda source IP, socket address). */
  clientIp(c: Context): string | null;
  /** Milliseconds since the epoch. Injected so tests control time (TOTP steps, expiry). */
  now?: () => number;
  /** Receives one structured line per request and per unexpected error. Default: console.log as JSON. */
  log?: (line: Record<string, unknown>) => void;
  /**
   * Sends the outbox's messages: a request's own right after its response, the rest in the
   * periodic pass. Without one nothing is sent: messages wait, pending, in the outbox.
   */
  mailTransport?: MailTransport;
  /**
   * Receives work that runs after a response where the platform offers no `waitUntil` (Node,
   * Lambda, tests): the promise never rejects. Default: nothing holds it (it runs in the
   * background; on Lambda a frozen container resumes it on its next event, or the periodic pass
   * does the work).
   */
  defer?: (work: Promise<void>) => void;
  /**
   * Reads the `/docs` page's Swagger UI files (Node: from node_modules). Without one the pipeline
   * does not serve /docs/assets/*: on Workers the static assets layer answers them.
   */
  docsAssets?: DocsAssetReader;
  /**
   * Resolves a webhook's host before each delivery so that every address it has is checked
   * (Node, Lambda: functions/platform/resolve-node.ts). Workers have none: Cloudflare's fetch
   * cannot reach private networks (functions/webhooks/target.ts).
   */
  resolveHost?: ResolveHost;
}

/** Who is calling: the live session that authenticated the request. */
export interface AuthState {
  userId: string;
  sessionId: string;
  aal: number;
  expiresAt: Date;
  /** When a password or second factor was last checked for this session (step-up). */
  authenticatedAt: Date;
  /** Whether the account's address is verified, read with the session (when it was). */
  emailVerified?: boolean;
}

export interface RequestClient {
  ip: string | null;
  /** The rate-limit network of `ip`: the IPv4 address, or the IPv6 /64 (lib/network.ts). */
  network: string | null;
  userAgent: string | null;
  /** Keyed hashes of ip and user agent, computed once per request on first use. */
  hashes(): Promise<{ ipHash: string | null; userAgentHash: string | null }>;
}

/** Keyed primitives built once from the configured secrets. */
export interface Vault {
  /**
   * HMAC-SHA-256 under keys derived from IP_HASH_KEY, one per purpose, so a hash made for one
   * purpose never equals a hash made for another (a user agent spelling an IP address).
   */
  hash: { ip: KeyedHasher; userAgent: KeyedHasher; limitKey: KeyedHasher };
  /** AES-256-GCM under ENCRYPTION_KEYS: TOTP secrets, outbox payloads. */
  box: SecretBox;
}

/**
 * Everything a flow needs to serve one request, built once by the request-context middleware
 * and passed down as a plain value. It is read-only: nothing below the kernel writes request
 * state (a tenant id, for instance, is always an explicit argument).
 */
export interface RequestScope {
  readonly requestId: string;
  readonly config: Config;
  readonly vault: Vault;
  readonly db: Database;
  /** The request's rate limiter; `limiter.stats.roundTrips` counts its store round trips. */
  readonly limiter: CountedRateLimiter;
  /** Request time, fixed at the start of the request. */
  readonly now: Date;
  readonly client: RequestClient;
  /** Structured log line (never a secret, token, address or user agent). */
  readonly log: (line: Record<string, unknown>) => void;
  /**
   * Runs `task` once the response is ready, without delaying it: in `waitUntil` on Workers, in
   * the background elsewhere, before the request's database is closed. A failure is logged
   * (its error name), never thrown. Messages the request queued are sent this way on their own.
   */
  readonly afterResponse: (task: () => Promise<unknown>) => void;
}

/** The scope of a request the kernel authenticated with a session. */
export interface AuthedScope extends RequestScope {
  readonly auth: AuthState;
}

/**
 * The session a request presents, on a route that checks it inside its own statement (a
 * "folded" session check: one round trip for the lookup and the work). Nothing is written for
 * a caller whose statement found no live session.
 */
export interface PresentedSession {
  /** SHA-256 of the presented token (well-formed; not yet looked up). */
  readonly tokenHash: string;
  /**
   * Reports what the handler's statement found: the live session (its idle expiry is pushed
   * after the response when due), or null: throws 401. Returns the session's idle expiry as
   * this request leaves it.
   */
  confirm(
    found: { id: string; lastSeenAt: Date; expiresAt?: Date; absoluteExpiresAt: Date } | null,
  ): Date | null;
  /** The separate lookup, for a path that needs the session itself (a refusal to explain); 401 when none. */
  authenticate(): Promise<AuthState>;
}

/** The scope of a request on a route with a folded session check. */
export interface PresentedScope extends RequestScope {
  readonly session: PresentedSession;
}

/** Who is calling a /v1/service/* route: a live tenant API key (auth/api-key.ts). */
export interface KeyState {
  id: string;
  tenantId: string;
  scopes: readonly string[];
}

/** The scope of a request the kernel authenticated with a tenant API key. */
export interface KeyScope extends RequestScope {
  readonly key: KeyState;
}

export interface AppVariables {
  requestId: string;
  scope: RequestScope;
}

export type AppEnv = { Variables: AppVariables };
export type AppContext = Context<AppEnv>;

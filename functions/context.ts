/**
 * What the app is built from (AppDeps) and what every request carries (AppEnv). Entries turn
 * their platform into AppDeps; nothing below the entries knows which platform it runs on.
 */
import type { Context } from "hono";
import type { Database } from "../db/database";
import type { Config } from "./config";
import type { KeyedHasher } from "./lib/keyed-hash";
import type { SecretBox } from "./lib/secret-box";
import type { RateLimiter } from "./ratelimit/types";

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
}

/** Who is calling, set by the authentication middleware. */
export interface AuthState {
  userId: string;
  sessionId: string;
  aal: number;
  expiresAt: Date;
}

export interface RequestClient {
  ip: string | null;
  userAgent: string | null;
  /** Keyed hashes of ip and user agent, computed once per request on first use. */
  hashes(): Promise<{ ipHash: string | null; userAgentHash: string | null }>;
}

/** Keyed primitives built once from the configured secrets. */
export interface Vault {
  /** HMAC-SHA-256 under IP_HASH_KEY: IPs, user agents, rate-limit identifiers. */
  keyedHash: KeyedHasher;
  /** AES-256-GCM under ENCRYPTION_KEYS: TOTP secrets, outbox payloads. */
  box: SecretBox;
}

export interface AppVariables {
  requestId: string;
  config: Config;
  vault: Vault;
  db: Database;
  limiter: RateLimiter;
  /** Request time, fixed at the start of the request. */
  now: Date;
  client: RequestClient;
  auth: AuthState;
  /** Tenant the request is scoped to, once the membership guard has checked it. */
  tenantId: string | null;
}

export type AppEnv = { Variables: AppVariables };
export type AppContext = Context<AppEnv>;

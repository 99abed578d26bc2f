/**
 * Configuration: every variable and secret the service reads, with its default. Entries pass
 * their platform's environment (Workers bindings, process.env) to `loadConfig`; tests build a
 * Config directly. Parsed once per isolate/process, never per request.
 */
import { z } from "zod";
import type { RateRule } from "./ratelimit/types";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface Config {
  appEnv: "development" | "test" | "preview" | "production";
  /** Secret for HMAC-SHA-256 of IP addresses and user agents. */
  ipHashKey: string;
  /** Keyring for AES-256-GCM at rest (TOTP secrets, outbox payloads): "id:base64key,…", first is current. */
  encryptionKeys: string;
  /** How many proxies in front of us may be trusted to append to X-Forwarded-For (0: ignore it). */
  trustedProxyHops: number;
  /** Issuer shown in authenticator apps. */
  totpIssuer: string;
  session: {
    /** Idle lifetime: a session unused this long expires (NIST SP 800-63B-4 §2.2.3, AAL2: 1 h inactivity). */
    idleTtlMs: number;
    /** Absolute lifetime from sign-in (NIST SP 800-63B-4 §2.2.3, AAL2: reauthenticate every 24 h). */
    absoluteTtlMs: number;
    /** `last_seen_at` is written at most this often, so reads do not cost a write each. */
    touchIntervalMs: number;
  };
  mfaChallengeTtlMs: number;
  mfaChallengeMaxFailures: number;
  passwordResetTtlMs: number;
  usageIdempotencyTtlMs: number;
  rateLimits: {
    mfaPerUser: RateRule;
    mfaPerIp: RateRule;
    passwordPerAccount: RateRule;
    passwordPerIp: RateRule;
    forgotPerEmail: RateRule;
  };
  rateLimitStore: "upstash" | "sql";
  upstash?: { url: string; token: string };
  /** How long the rate-limit store may take before we fail closed with 503. */
  rateLimitTimeoutMs: number;
}

/**
 * Default limits. Sources: NIST SP 800-63B §5.2.2 (no more than 100 consecutive failed
 * attempts per account) and OWASP Authentication and MFA cheat sheets (throttle per account
 * and per source). 10 TOTP checks per user per 15 minutes bounds an online guesser to
 * 10 × 3 acceptable codes / 10^6 per window, about 0.1 % per day.
 */
export const DEFAULT_RATE_LIMITS: Config["rateLimits"] = {
  mfaPerUser: { name: "mfa:user", limit: 10, windowMs: 15 * MINUTE },
  mfaPerIp: { name: "mfa:ip", limit: 100, windowMs: 15 * MINUTE },
  passwordPerAccount: { name: "pw:account", limit: 10, windowMs: 15 * MINUTE },
  passwordPerIp: { name: "pw:ip", limit: 100, windowMs: 15 * MINUTE },
  forgotPerEmail: { name: "forgot:email", limit: 3, windowMs: HOUR },
};

const int = (min: number) => z.coerce.number().int().min(min);

const EnvSchema = z.object({
  APP_ENV: z.enum(["development", "test", "preview", "production"]).default("production"),
  IP_HASH_KEY: z.string().min(32, "IP_HASH_KEY must be at least 32 characters"),
  ENCRYPTION_KEYS: z.string().min(1, "ENCRYPTION_KEYS is required"),
  TRUSTED_PROXY_HOPS: int(0).default(0),
  TOTP_ISSUER: z.string().min(1).default("User Data Hardening"),
  SESSION_IDLE_TTL_SECONDS: int(60).default(3600),
  SESSION_ABSOLUTE_TTL_SECONDS: int(60).default(86_400),
  SESSION_TOUCH_INTERVAL_SECONDS: int(1).default(300),
  MFA_CHALLENGE_TTL_SECONDS: int(30).default(300),
  MFA_CHALLENGE_MAX_FAILURES: int(1).default(5),
  PASSWORD_RESET_TTL_SECONDS: int(60).default(1800),
  USAGE_IDEMPOTENCY_TTL_SECONDS: int(60).default(86_400),
  RATE_LIMIT_STORE: z.enum(["upstash", "sql"]).optional(),
  RATE_LIMIT_TIMEOUT_MS: int(50).default(1000),
  UPSTASH_REDIS_REST_URL: z.url().optional(),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
  // "limit/windowSeconds", e.g. "10/900"
  RATE_LIMIT_MFA_PER_USER: z.string().optional(),
  RATE_LIMIT_MFA_PER_IP: z.string().optional(),
  RATE_LIMIT_PASSWORD_PER_ACCOUNT: z.string().optional(),
  RATE_LIMIT_PASSWORD_PER_IP: z.string().optional(),
  RATE_LIMIT_FORGOT_PER_EMAIL: z.string().optional(),
});

function rule(base: RateRule, override: string | undefined): RateRule {
  if (!override) return base;
  const m = /^(\d+)\/(\d+)$/.exec(override.trim());
  if (!m) throw new Error(`rate limit override for ${base.name} must look like "limit/windowSeconds"`);
  return { name: base.name, limit: Number(m[1]), windowMs: Number(m[2]) * 1000 };
}

/** Parses the platform environment. Throws a message naming the bad variable (never its value). */
export function loadConfig(env: Record<string, unknown>): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid configuration: ${names}`);
  }
  const e = parsed.data;
  const upstash =
    e.UPSTASH_REDIS_REST_URL && e.UPSTASH_REDIS_REST_TOKEN
      ? { url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN }
      : undefined;
  const rateLimitStore = e.RATE_LIMIT_STORE ?? (upstash ? "upstash" : "sql");
  if (rateLimitStore === "upstash" && !upstash) {
    throw new Error(
      "invalid configuration: RATE_LIMIT_STORE=upstash needs UPSTASH_REDIS_REST_URL and _TOKEN",
    );
  }
  const d = DEFAULT_RATE_LIMITS;
  return {
    appEnv: e.APP_ENV,
    ipHashKey: e.IP_HASH_KEY,
    encryptionKeys: e.ENCRYPTION_KEYS,
    trustedProxyHops: e.TRUSTED_PROXY_HOPS,
    totpIssuer: e.TOTP_ISSUER,
    session: {
      idleTtlMs: e.SESSION_IDLE_TTL_SECONDS * 1000,
      absoluteTtlMs: e.SESSION_ABSOLUTE_TTL_SECONDS * 1000,
      touchIntervalMs: e.SESSION_TOUCH_INTERVAL_SECONDS * 1000,
    },
    mfaChallengeTtlMs: e.MFA_CHALLENGE_TTL_SECONDS * 1000,
    mfaChallengeMaxFailures: e.MFA_CHALLENGE_MAX_FAILURES,
    passwordResetTtlMs: e.PASSWORD_RESET_TTL_SECONDS * 1000,
    usageIdempotencyTtlMs: e.USAGE_IDEMPOTENCY_TTL_SECONDS * 1000,
    rateLimits: {
      mfaPerUser: rule(d.mfaPerUser, e.RATE_LIMIT_MFA_PER_USER),
      mfaPerIp: rule(d.mfaPerIp, e.RATE_LIMIT_MFA_PER_IP),
      passwordPerAccount: rule(d.passwordPerAccount, e.RATE_LIMIT_PASSWORD_PER_ACCOUNT),
      passwordPerIp: rule(d.passwordPerIp, e.RATE_LIMIT_PASSWORD_PER_IP),
      forgotPerEmail: rule(d.forgotPerEmail, e.RATE_LIMIT_FORGOT_PER_EMAIL),
    },
    rateLimitStore,
    ...(upstash ? { upstash } : {}),
    rateLimitTimeoutMs: e.RATE_LIMIT_TIMEOUT_MS,
  };
}

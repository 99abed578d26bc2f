/**
 * Configuration: every variable and secret the service reads, with its default. Entries pass
 * their platform's environment (Workers bindings, process.env) to `loadConfig`; tests build a
 * Config directly. Parsed once per isolate/process, never per request.
 */
import * as z from "zod";
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
  /** Passkeys: the relying party (its id, a registrable suffix of every origin's host) and the origins allowed to use it. */
  webauthn: { rpId: string; rpName: string; origins: string[] };
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
  /** How recent a session's last password or second-factor check must be for sensitive operations (step-up). */
  stepUpMaxAgeMs: number;
  passwordResetTtlMs: number;
  usageIdempotencyTtlMs: number;
  /** Each rule's `name` is the `limit` a 429 names. */
  rateLimits: {
    passwordPerAccountNetwork: RateRule;
    passwordPerAccount: RateRule;
    passwordPerNetwork: RateRule;
    mfaPerUser: RateRule;
    mfaPerUserDaily: RateRule;
    mfaPerNetwork: RateRule;
    registerPerNetwork: RateRule;
    emailMessages: RateRule;
  };
  rateLimitStore: "upstash" | "sql";
  upstash?: { url: string; token: string };
  /** How long the rate-limit store may take before we fail closed with 503. */
  rateLimitTimeoutMs: number;
  /** Outgoing mail (functions/mail/). */
  mail: MailConfig;
  /** restricted: unverified accounts sign in but may not enroll factors, create tenants…; required: no sign-in until verified; off. */
  emailVerification: "restricted" | "required" | "off";
  /** Lifetime of verification and email-change links (24 h). */
  emailTokenTtlMs: number;
  /** Lifetime of a tenant invitation (7 days). */
  invitationTtlMs: number;
  /** The Postgres driver and the Node entry's pool. */
  database: {
    /**
     * DATABASE_DRIVER: forces the Postgres driver. Node and Lambda: `neon` or `pg`, unset the host
     * decides (platform/database-url.ts). Workers: `neon-http` (the default) or `neon`, the
     * WebSocket Pool (platform/worker-database.ts).
     */
    driver?: "neon" | "neon-http" | "pg";
    /** DATABASE_POOL_MAX: connections in the Node entry's pool (Lambda keeps 1 per container). */
    poolMax: number;
  };
  outbox: {
    /** Attempts before a message is marked failed. */
    maxAttempts: number;
    /** First retry after this long; each later one waits twice as long. */
    retryBaseMs: number;
    /** Sent and failed messages are deleted by the sweep after this long (no address lingers). */
    retentionMs: number;
  };
  /** How long the sweep keeps append-only evidence; undefined: forever (the default). */
  retention: {
    securityEventsMs?: number;
    /** Only superseded consent records are ever deleted (the decision in force stays). */
    consentsMs?: number;
  };
  /** Browser clients: origins answered with CORS headers, and whether sessions also travel in a cookie. */
  browser: {
    /** Exact origins (`scheme://host[:port]`) allowed to call the API from a page (CORS_ORIGINS). */
    corsOrigins: readonly string[];
    /** SESSION_COOKIE=on: session-issuing answers set `__Host-session` and leave the token out of the body. */
    sessionCookie: boolean;
  };
  /** Webhook deliveries (functions/webhooks/dispatch.ts). */
  webhooks: {
    /** An answer must come within this long (10 s), else the attempt failed. */
    timeoutMs: number;
    /** First retry after this long (30 s); each later one waits twice as long. */
    retryBaseMs: number;
    /** Retries go on for at least this long (24 h) before a delivery is marked failed. */
    retryWindowMs: number;
  };
}

/** Where and how mail leaves: `log` keeps it in the outbox only (development). */
export type MailConfig = {
  /** The sender, e.g. `Acme <no-reply@acme.example>`. */
  from: string;
  /** Links in messages point here (`${appUrl}/reset-password?token=…`). */
  appUrl: string;
  /** The product name in subjects and bodies. */
  productName: string;
  /** A provider answer slower than this is a failed attempt (retried). */
  timeoutMs: number;
} & (
  | { transport: "log" }
  | { transport: "smtp"; smtpUrl: string }
  | { transport: "resend"; resendApiKey: string; resendApiUrl: string }
);

/**
 * Default limits; a *network* is an IPv4 address or an IPv6 /64 (lib/network.ts).
 * - Passwords: NIST SP 800-63B §5.2.2 allows at most 100 consecutive failures per account. 10
 *   per (account, network) stops one source quickly, while 100 per account (any network) is the
 *   NIST ceiling, so one network can never lock out a user who signs in from another; 100 per
 *   network stops one source spraying many accounts while leaving room for an office NAT.
 * - Second factors: a 6-digit code with ±1 step has 3 valid values in 10^6; 10 wrong guesses per
 *   15 minutes and 30 per day bound an online guesser to about 0.009 % per day.
 * - Registration runs a 16 MiB scrypt: 20 per network per hour (OWASP Authentication Cheat
 *   Sheet: throttle account creation).
 * - Messages (reset, verification resend): 3 per address per hour, so the service cannot be
 *   used to flood a mailbox.
 */
export const DEFAULT_RATE_LIMITS: Config["rateLimits"] = {
  passwordPerAccountNetwork: { name: "password_account_network", limit: 10, windowMs: 15 * MINUTE },
  passwordPerAccount: { name: "password_account", limit: 100, windowMs: 15 * MINUTE },
  passwordPerNetwork: { name: "password_network", limit: 100, windowMs: 15 * MINUTE },
  mfaPerUser: { name: "mfa_user", limit: 10, windowMs: 15 * MINUTE },
  mfaPerUserDaily: { name: "mfa_user_daily", limit: 30, windowMs: 24 * HOUR },
  mfaPerNetwork: { name: "mfa_network", limit: 100, windowMs: 15 * MINUTE },
  registerPerNetwork: { name: "register_network", limit: 20, windowMs: HOUR },
  emailMessages: { name: "email_messages", limit: 3, windowMs: HOUR },
};

/** Environment variable of each rule ("limit/windowSeconds"). */
export const RATE_LIMIT_VARIABLES: Record<keyof Config["rateLimits"], string> = {
  passwordPerAccountNetwork: "RATE_LIMIT_PASSWORD_PER_ACCOUNT_NETWORK",
  passwordPerAccount: "RATE_LIMIT_PASSWORD_PER_ACCOUNT",
  passwordPerNetwork: "RATE_LIMIT_PASSWORD_PER_NETWORK",
  mfaPerUser: "RATE_LIMIT_MFA_PER_USER",
  mfaPerUserDaily: "RATE_LIMIT_MFA_PER_USER_DAILY",
  mfaPerNetwork: "RATE_LIMIT_MFA_PER_NETWORK",
  registerPerNetwork: "RATE_LIMIT_REGISTER_PER_NETWORK",
  emailMessages: "RATE_LIMIT_EMAIL_MESSAGES",
};

/** Variables of version 1 whose meaning changed: refused at start-up, naming the replacement. */
const RENAMED: Record<string, string> = {
  RATE_LIMIT_MFA_PER_IP: "RATE_LIMIT_MFA_PER_NETWORK",
  RATE_LIMIT_PASSWORD_PER_IP: "RATE_LIMIT_PASSWORD_PER_NETWORK",
  RATE_LIMIT_FORGOT_PER_EMAIL: "RATE_LIMIT_EMAIL_MESSAGES",
};

const int = (min: number) => z.coerce.number().int().min(min);

/**
 * CORS_ORIGINS: comma-separated exact origins. Each must be what a browser sends in `Origin`
 * (scheme, host, optional port; no path, query, credentials or trailing slash), so a typo
 * fails start-up instead of silently matching nothing.
 */
const CorsOrigins = z
  .string()
  .default("")
  .transform((value, ctx) => {
    const origins = value
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean);
    for (const origin of origins) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(origin);
      } catch {
        parsed = undefined;
      }
      if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
        ctx.addIssue({ code: "custom", message: "each origin must look like scheme://host[:port]" });
        return z.NEVER;
      }
    }
    return origins;
  });

const EnvSchema = z.object({
  APP_ENV: z.enum(["development", "test", "preview", "production"]).default("production"),
  IP_HASH_KEY: z.string().min(32, "IP_HASH_KEY must be at least 32 characters"),
  ENCRYPTION_KEYS: z.string().min(1, "ENCRYPTION_KEYS is required"),
  TRUSTED_PROXY_HOPS: int(0).default(0),
  TOTP_ISSUER: z.string().min(1).default("User Data Hardening"),
  WEBAUTHN_RP_ID: z.string().trim().toLowerCase().min(1).default("localhost"),
  WEBAUTHN_ORIGINS: z.string().min(1).optional(),
  WEBAUTHN_RP_NAME: z.string().trim().min(1).max(100).optional(),
  SESSION_IDLE_TTL_SECONDS: int(60).default(3600),
  SESSION_ABSOLUTE_TTL_SECONDS: int(60).default(86_400),
  SESSION_TOUCH_INTERVAL_SECONDS: int(1).default(300),
  MFA_CHALLENGE_TTL_SECONDS: int(30).default(300),
  MFA_CHALLENGE_MAX_FAILURES: int(1).default(5),
  STEP_UP_MAX_AGE_SECONDS: int(30).default(300),
  PASSWORD_RESET_TTL_SECONDS: int(60).default(1800),
  USAGE_IDEMPOTENCY_TTL_SECONDS: int(60).default(86_400),
  RATE_LIMIT_STORE: z.enum(["upstash", "sql"]).optional(),
  RATE_LIMIT_TIMEOUT_MS: int(50).default(1000),
  MAIL_TRANSPORT: z.enum(["log", "smtp", "resend"]).default("log"),
  MAIL_FROM: z.string().min(3).default("User Data Hardening <no-reply@localhost>"),
  APP_URL: z.url().default("http://localhost:8787"),
  PRODUCT_NAME: z.string().min(1).max(100).default("User Data Hardening"),
  MAIL_TIMEOUT_MS: int(100).default(10_000),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, "SMTP_URL must be smtp://… or smtps://…")
    .optional(),
  RESEND_API_KEY: z.string().min(1).optional(),
  RESEND_API_URL: z.url().default("https://api.resend.com"),
  EMAIL_VERIFICATION: z.enum(["restricted", "required", "off"]).default("restricted"),
  EMAIL_TOKEN_TTL_SECONDS: int(60).default(86_400),
  INVITATION_TTL_HOURS: int(1).default(168),
  OUTBOX_MAX_ATTEMPTS: int(1).default(8),
  OUTBOX_RETRY_BASE_SECONDS: int(1).default(30),
  OUTBOX_RETENTION_DAYS: int(1).default(7),
  SECURITY_EVENT_RETENTION_DAYS: int(1).optional(),
  CONSENT_RETENTION_DAYS: int(1).optional(),
  CORS_ORIGINS: CorsOrigins,
  SESSION_COOKIE: z.enum(["on", "off"]).default("off"),
  // Empty is unset (as for the scripts, which read it raw): the host decides.
  DATABASE_DRIVER: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.enum(["neon", "neon-http", "pg"]).optional(),
  ),
  // 32: the benchmark's usage scenario (and its pgbench run) keeps 32 requests in flight; well
  // under Postgres's default max_connections (100), leaving room for a second instance and psql.
  DATABASE_POOL_MAX: int(1).max(1000).default(32),
  WEBHOOK_TIMEOUT_SECONDS: int(1).default(10),
  WEBHOOK_RETRY_BASE_SECONDS: int(1).default(30),
  WEBHOOK_RETRY_HOURS: int(1).default(24),
  UPSTASH_REDIS_REST_URL: z.url().optional(),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
});

function rule(base: RateRule, variable: string, override: string | undefined): RateRule {
  if (!override) return base;
  const m = /^(\d+)\/(\d+)$/.exec(override.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) {
    throw new Error(`invalid configuration: ${variable} must look like "limit/windowSeconds"`);
  }
  return { name: base.name, limit: Number(m[1]), windowMs: Number(m[2]) * 1000 };
}

const DEV_WEBAUTHN_ORIGIN = "http://localhost:8787";

/**
 * The relying party, checked at start-up: every origin is a bare origin, https (http only for
 * localhost, a secure context for browsers, and only in development and test when the origins
 * are configured), whose host is the RP id or a subdomain of it (WebAuthn refuses any other).
 * Unset, the development defaults apply (`localhost`, `http://localhost:8787`).
 */
function webauthnConfig(e: z.output<typeof EnvSchema>): Config["webauthn"] {
  const bad = (why: string) => new Error(`invalid configuration: ${why}`);
  const rpId = e.WEBAUTHN_RP_ID;
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(rpId)) throw bad("WEBAUTHN_RP_ID must be a host name");
  const origins = (e.WEBAUTHN_ORIGINS ?? DEV_WEBAUTHN_ORIGIN)
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
  if (origins.length === 0) throw bad("WEBAUTHN_ORIGINS must list at least one origin");
  const localOk = e.APP_ENV === "development" || e.APP_ENV === "test" || e.WEBAUTHN_ORIGINS === undefined;
  for (const origin of origins) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw bad("WEBAUTHN_ORIGINS must be comma-separated origins like https://app.example.com");
    }
    if (url.origin !== origin) throw bad("WEBAUTHN_ORIGINS entries must be bare origins (no path or slash)");
    const local = url.protocol === "http:" && url.hostname === "localhost";
    if (url.protocol !== "https:" && !(local && localOk)) {
      throw bad("WEBAUTHN_ORIGINS must be https (http://localhost only in development)");
    }
    if (url.hostname !== rpId && !url.hostname.endsWith(`.${rpId}`)) {
      throw bad("WEBAUTHN_RP_ID must be the host of every WEBAUTHN_ORIGINS entry or a parent domain of it");
    }
  }
  return { rpId, rpName: e.WEBAUTHN_RP_NAME ?? e.PRODUCT_NAME, origins };
}

function mailConfig(e: z.output<typeof EnvSchema>): MailConfig {
  const common = {
    from: e.MAIL_FROM,
    appUrl: e.APP_URL.replace(/\/+$/, ""),
    productName: e.PRODUCT_NAME,
    timeoutMs: e.MAIL_TIMEOUT_MS,
  };
  switch (e.MAIL_TRANSPORT) {
    case "smtp":
      if (!e.SMTP_URL) throw new Error("invalid configuration: MAIL_TRANSPORT=smtp needs SMTP_URL");
      return { ...common, transport: "smtp", smtpUrl: e.SMTP_URL };
    case "resend":
      if (!e.RESEND_API_KEY)
        throw new Error("invalid configuration: MAIL_TRANSPORT=resend needs RESEND_API_KEY");
      return {
        ...common,
        transport: "resend",
        resendApiKey: e.RESEND_API_KEY,
        resendApiUrl: e.RESEND_API_URL.replace(/\/+$/, ""),
      };
    default:
      return { ...common, transport: "log" };
  }
}

/** Parses the platform environment. Throws a message naming the bad variable (never its value). */
export function loadConfig(env: Record<string, unknown>): Config {
  for (const [old, now] of Object.entries(RENAMED)) {
    if (env[old] !== undefined) throw new Error(`invalid configuration: ${old} is now ${now} (per network)`);
  }
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
  const rateLimits = Object.fromEntries(
    Object.entries(DEFAULT_RATE_LIMITS).map(([key, base]) => {
      const name = RATE_LIMIT_VARIABLES[key as keyof Config["rateLimits"]];
      const value = env[name];
      return [key, rule(base, name, typeof value === "string" ? value : undefined)];
    }),
  ) as Config["rateLimits"];
  return {
    appEnv: e.APP_ENV,
    ipHashKey: e.IP_HASH_KEY,
    encryptionKeys: e.ENCRYPTION_KEYS,
    trustedProxyHops: e.TRUSTED_PROXY_HOPS,
    totpIssuer: e.TOTP_ISSUER,
    webauthn: webauthnConfig(e),
    session: {
      idleTtlMs: e.SESSION_IDLE_TTL_SECONDS * 1000,
      absoluteTtlMs: e.SESSION_ABSOLUTE_TTL_SECONDS * 1000,
      touchIntervalMs: e.SESSION_TOUCH_INTERVAL_SECONDS * 1000,
    },
    mfaChallengeTtlMs: e.MFA_CHALLENGE_TTL_SECONDS * 1000,
    mfaChallengeMaxFailures: e.MFA_CHALLENGE_MAX_FAILURES,
    stepUpMaxAgeMs: e.STEP_UP_MAX_AGE_SECONDS * 1000,
    passwordResetTtlMs: e.PASSWORD_RESET_TTL_SECONDS * 1000,
    usageIdempotencyTtlMs: e.USAGE_IDEMPOTENCY_TTL_SECONDS * 1000,
    rateLimits,
    rateLimitStore,
    ...(upstash ? { upstash } : {}),
    rateLimitTimeoutMs: e.RATE_LIMIT_TIMEOUT_MS,
    mail: mailConfig(e),
    emailVerification: e.EMAIL_VERIFICATION,
    emailTokenTtlMs: e.EMAIL_TOKEN_TTL_SECONDS * 1000,
    invitationTtlMs: e.INVITATION_TTL_HOURS * HOUR,
    database: {
      ...(e.DATABASE_DRIVER ? { driver: e.DATABASE_DRIVER } : {}),
      poolMax: e.DATABASE_POOL_MAX,
    },
    outbox: {
      maxAttempts: e.OUTBOX_MAX_ATTEMPTS,
      retryBaseMs: e.OUTBOX_RETRY_BASE_SECONDS * 1000,
      retentionMs: e.OUTBOX_RETENTION_DAYS * 24 * HOUR,
    },
    retention: {
      ...(e.SECURITY_EVENT_RETENTION_DAYS
        ? { securityEventsMs: e.SECURITY_EVENT_RETENTION_DAYS * 24 * HOUR }
        : {}),
      ...(e.CONSENT_RETENTION_DAYS ? { consentsMs: e.CONSENT_RETENTION_DAYS * 24 * HOUR } : {}),
    },
    browser: { corsOrigins: e.CORS_ORIGINS, sessionCookie: e.SESSION_COOKIE === "on" },
    webhooks: {
      timeoutMs: e.WEBHOOK_TIMEOUT_SECONDS * 1000,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_SECONDS * 1000,
      retryWindowMs: e.WEBHOOK_RETRY_HOURS * HOUR,
    },
  };
}

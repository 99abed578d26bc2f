/**
 * Postgres (Neon) schema. Kept column-for-column identical to schema.sqlite.ts by
 * test/unit/schema-parity.test.ts; whose header holds the design notes shared by both dialects.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull();
const time = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const users = pgTable("users", {
  id: uuid("id").primaryKey(),
  email: text("email").notNull().unique(),
  passwordHash: text("password_hash").notNull(),
  displayName: text("display_name"),
  createdAt: createdAt(),
  updatedAt: time("updated_at").notNull(),
});

export const tenantAccounts = pgTable("tenant_accounts", {
  id: uuid("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: createdAt(),
});

export const tenantMemberships = pgTable(
  "tenant_memberships",
  {
    tenantId: uuid("tenant_id")
      .notNull()
      .references(() => tenantAccounts.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["owner", "admin", "member"] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId] }), index("tenant_memberships_user_idx").on(t.userId)],
);

export const userSessions = pgTable(
  "user_sessions",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique(),
    aal: integer("aal").notNull(),
    createdAt: createdAt(),
    lastSeenAt: time("last_seen_at").notNull(),
    expiresAt: time("expires_at").notNull(),
    absoluteExpiresAt: time("absolute_expires_at").notNull(),
    revokedAt: time("revoked_at"),
    ipHash: text("ip_hash"),
    userAgentHash: text("user_agent_hash"),
  },
  (t) => [index("user_sessions_user_idx").on(t.userId)],
);

export const mfaChallenges = pgTable(
  "mfa_challenges",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique(),
    failedAttempts: integer("failed_attempts").notNull().default(0),
    createdAt: createdAt(),
    expiresAt: time("expires_at").notNull(),
    consumedAt: time("consumed_at"),
  },
  (t) => [index("mfa_challenges_user_idx").on(t.userId)],
);

export const passwordResetTokens = pgTable(
  "password_reset_tokens",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique(),
    createdAt: createdAt(),
    expiresAt: time("expires_at").notNull(),
    usedAt: time("used_at"),
  },
  (t) => [index("password_reset_tokens_user_idx").on(t.userId)],
);

export const outboxMessages = pgTable(
  "outbox_messages",
  {
    id: uuid("id").primaryKey(),
    recipient: text("recipient").notNull(),
    kind: text("kind").notNull(),
    payloadKeyId: text("payload_key_id").notNull(),
    payloadCiphertext: text("payload_ciphertext").notNull(),
    createdAt: createdAt(),
    sentAt: time("sent_at"),
  },
  (t) => [index("outbox_messages_recipient_idx").on(t.recipient, t.createdAt)],
);

export const userMfaMethods = pgTable(
  "user_mfa_methods",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: text("type", { enum: ["totp"] }).notNull(),
    status: text("status", { enum: ["pending", "verified"] }).notNull(),
    label: text("label"),
    secretKeyId: text("secret_key_id").notNull(),
    secretCiphertext: text("secret_ciphertext").notNull(),
    lastUsedStep: bigint("last_used_step", { mode: "number" }),
    createdAt: createdAt(),
    verifiedAt: time("verified_at"),
    lastUsedAt: time("last_used_at"),
  },
  (t) => [index("user_mfa_methods_user_idx").on(t.userId)],
);

export const userRecoveryCodes = pgTable(
  "user_recovery_codes",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    createdAt: createdAt(),
    usedAt: time("used_at"),
  },
  (t) => [uniqueIndex("user_recovery_codes_user_code_idx").on(t.userId, t.codeHash)],
);

export const userConsents = pgTable(
  "user_consents",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tenantId: uuid("tenant_id").references(() => tenantAccounts.id, { onDelete: "cascade" }),
    scopeId: text("scope_id").notNull(),
    policy: text("policy").notNull(),
    version: text("version").notNull(),
    decision: text("decision", { enum: ["granted", "revoked"] }).notNull(),
    source: text("source"),
    ipHash: text("ip_hash"),
    userAgentHash: text("user_agent_hash"),
    requestId: text("request_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("user_consents_scope_idx").on(t.userId, t.scopeId, t.policy, t.id),
    check("user_consents_scope_check", sql`${t.scopeId} = coalesce(${t.tenantId}::text, '')`),
  ],
);

export const userNotificationPreferences = pgTable(
  "user_notification_preferences",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tenantId: uuid("tenant_id").references(() => tenantAccounts.id, { onDelete: "cascade" }),
    scopeId: text("scope_id").notNull(),
    channel: text("channel", { enum: ["email", "sms", "push", "in_app"] }).notNull(),
    category: text("category").notNull(),
    enabled: boolean("enabled").notNull(),
    createdAt: createdAt(),
    updatedAt: time("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("user_notification_preferences_key_idx").on(t.userId, t.scopeId, t.channel, t.category),
    check("user_notification_preferences_scope_check", sql`${t.scopeId} = coalesce(${t.tenantId}::text, '')`),
  ],
);

export const usageCounters = pgTable(
  "usage_counters",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tenantId: uuid("tenant_id").references(() => tenantAccounts.id, { onDelete: "cascade" }),
    scopeId: text("scope_id").notNull(),
    feature: text("feature").notNull(),
    periodStart: date("period_start", { mode: "string" }).notNull(),
    total: bigint("total", { mode: "number" }).notNull(),
    updatedAt: time("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.scopeId, t.feature, t.periodStart] }),
    index("usage_counters_scope_idx").on(t.scopeId, t.feature, t.periodStart),
    check("usage_counters_scope_check", sql`${t.scopeId} = coalesce(${t.tenantId}::text, '')`),
  ],
);

export const usageIdempotencyKeys = pgTable(
  "usage_idempotency_keys",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    response: jsonb("response"),
    createdAt: createdAt(),
    expiresAt: time("expires_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.key] }),
    index("usage_idempotency_keys_expiry_idx").on(t.expiresAt),
  ],
);

export const securityEvents = pgTable(
  "security_events",
  {
    id: uuid("id").primaryKey(),
    type: text("type").notNull(),
    userId: uuid("user_id").references(() => users.id, { onDelete: "cascade" }),
    tenantId: uuid("tenant_id").references(() => tenantAccounts.id, { onDelete: "cascade" }),
    requestId: text("request_id").notNull(),
    ipHash: text("ip_hash"),
    userAgentHash: text("user_agent_hash"),
    metadata: jsonb("metadata").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("security_events_user_idx").on(t.userId, t.id),
    index("security_events_tenant_idx").on(t.tenantId, t.id),
  ],
);

export const rateLimitBuckets = pgTable(
  "rate_limit_buckets",
  {
    key: text("key").notNull(),
    windowStart: bigint("window_start", { mode: "number" }).notNull(),
    hits: integer("hits").notNull(),
    expiresAt: time("expires_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.key, t.windowStart] }),
    index("rate_limit_buckets_expiry_idx").on(t.expiresAt),
  ],
);

/**
 * SQLite (libSQL, D1) schema. Kept column-for-column identical to schema.pg.ts by
 * test/unit/schema-parity.test.ts.
 *
 * Design notes shared by both dialects:
 * - IDs are UUIDv7 strings, so ordering by id is ordering by creation time (cursors use it).
 * - Times are `Date` in TypeScript: timestamptz on Postgres, epoch milliseconds on SQLite.
 * - Tenant-scoped rows carry a nullable `tenant_id` (the foreign key) and a NOT NULL `scope_id`
 *   (the tenant id, or '' for the global scope). Both dialects treat NULLs as distinct in
 *   unique indexes, so conflict targets use `scope_id`, never `tenant_id`; a CHECK keeps the
 *   two columns in step.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const createdAt = () => integer("created_at", { mode: "timestamp_ms" }).notNull();
const time = (name: string) => integer(name, { mode: "timestamp_ms" });

export const users = sqliteTable("users", {
  id: text("id").primaryKey(),
  email: text("email").notNull().unique(),
  passwordHash: text("password_hash").notNull(),
  displayName: text("display_name"),
  createdAt: createdAt(),
  updatedAt: time("updated_at").notNull(),
});

export const tenantAccounts = sqliteTable("tenant_accounts", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: createdAt(),
});

export const tenantMemberships = sqliteTable(
  "tenant_memberships",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenantAccounts.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["owner", "admin", "member"] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.userId] }), index("tenant_memberships_user_idx").on(t.userId)],
);

export const userSessions = sqliteTable(
  "user_sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
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

export const mfaChallenges = sqliteTable(
  "mfa_challenges",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
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

export const passwordResetTokens = sqliteTable(
  "password_reset_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique(),
    createdAt: createdAt(),
    expiresAt: time("expires_at").notNull(),
    usedAt: time("used_at"),
  },
  (t) => [index("password_reset_tokens_user_idx").on(t.userId)],
);

export const outboxMessages = sqliteTable(
  "outbox_messages",
  {
    id: text("id").primaryKey(),
    recipient: text("recipient").notNull(),
    kind: text("kind").notNull(),
    payloadKeyId: text("payload_key_id").notNull(),
    payloadCiphertext: text("payload_ciphertext").notNull(),
    createdAt: createdAt(),
    sentAt: time("sent_at"),
  },
  (t) => [index("outbox_messages_recipient_idx").on(t.recipient, t.createdAt)],
);

export const userMfaMethods = sqliteTable(
  "user_mfa_methods",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: text("type", { enum: ["totp"] }).notNull(),
    status: text("status", { enum: ["pending", "verified"] }).notNull(),
    label: text("label"),
    secretKeyId: text("secret_key_id").notNull(),
    secretCiphertext: text("secret_ciphertext").notNull(),
    lastUsedStep: integer("last_used_step"),
    createdAt: createdAt(),
    verifiedAt: time("verified_at"),
    lastUsedAt: time("last_used_at"),
  },
  (t) => [index("user_mfa_methods_user_idx").on(t.userId)],
);

export const userRecoveryCodes = sqliteTable(
  "user_recovery_codes",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    createdAt: createdAt(),
    usedAt: time("used_at"),
  },
  (t) => [uniqueIndex("user_recovery_codes_user_code_idx").on(t.userId, t.codeHash)],
);

export const userConsents = sqliteTable(
  "user_consents",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id").references(() => tenantAccounts.id, { onDelete: "cascade" }),
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
    check("user_consents_scope_check", sql`${t.scopeId} = coalesce(${t.tenantId}, '')`),
  ],
);

export const userNotificationPreferences = sqliteTable(
  "user_notification_preferences",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id").references(() => tenantAccounts.id, { onDelete: "cascade" }),
    scopeId: text("scope_id").notNull(),
    channel: text("channel", { enum: ["email", "sms", "push", "in_app"] }).notNull(),
    category: text("category").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    createdAt: createdAt(),
    updatedAt: time("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("user_notification_preferences_key_idx").on(t.userId, t.scopeId, t.channel, t.category),
    check("user_notification_preferences_scope_check", sql`${t.scopeId} = coalesce(${t.tenantId}, '')`),
  ],
);

export const usageCounters = sqliteTable(
  "usage_counters",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id").references(() => tenantAccounts.id, { onDelete: "cascade" }),
    scopeId: text("scope_id").notNull(),
    feature: text("feature").notNull(),
    periodStart: text("period_start").notNull(),
    total: integer("total").notNull(),
    updatedAt: time("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.scopeId, t.feature, t.periodStart] }),
    index("usage_counters_scope_idx").on(t.scopeId, t.feature, t.periodStart),
    check("usage_counters_scope_check", sql`${t.scopeId} = coalesce(${t.tenantId}, '')`),
  ],
);

export const usageIdempotencyKeys = sqliteTable(
  "usage_idempotency_keys",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    response: text("response", { mode: "json" }),
    createdAt: createdAt(),
    expiresAt: time("expires_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.key] }),
    index("usage_idempotency_keys_expiry_idx").on(t.expiresAt),
  ],
);

export const securityEvents = sqliteTable(
  "security_events",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id").references(() => tenantAccounts.id, { onDelete: "cascade" }),
    requestId: text("request_id").notNull(),
    ipHash: text("ip_hash"),
    userAgentHash: text("user_agent_hash"),
    metadata: text("metadata", { mode: "json" }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("security_events_user_idx").on(t.userId, t.id),
    index("security_events_tenant_idx").on(t.tenantId, t.id),
  ],
);

export const rateLimitBuckets = sqliteTable(
  "rate_limit_buckets",
  {
    key: text("key").notNull(),
    windowStart: integer("window_start").notNull(),
    hits: integer("hits").notNull(),
    expiresAt: time("expires_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.key, t.windowStart] }),
    index("rate_limit_buckets_expiry_idx").on(t.expiresAt),
  ],
);

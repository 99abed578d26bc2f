/**
 * The tables, written once for both dialects: `defineTables(pgKit)` is the Postgres (Neon)
 * schema (db/schema.pg.ts), `defineTables(sqliteKit)` the SQLite (libSQL, D1) one
 * (db/schema.sqlite.ts). test/unit/schema-parity.test.ts checks that the two agree.
 *
 * Design notes shared by both dialects:
 * - IDs are UUIDv7 strings, so ordering by id is ordering by creation time (cursors use it).
 * - Times are `Date` in TypeScript: timestamptz on Postgres, epoch milliseconds on SQLite.
 * - Tenant-scoped rows carry a nullable `tenant_id` (the foreign key) and a NOT NULL `scope_id`
 *   (the tenant id, or '' for the global scope). Both dialects treat NULLs as distinct in
 *   unique indexes, so conflict targets use `scope_id`, never `tenant_id`; a CHECK keeps the
 *   two columns in step.
 */
import type { Dialect, Kit } from "./kit";

/** One table of `defineTables`' result; a function so the schema modules can mark it pure. */
export function tableOf<T, K extends keyof T>(tables: T, name: K): T[K] {
  return tables[name];
}

export function defineTables<D extends Dialect>(k: Kit<D>) {
  /** `user_id`, NOT NULL, deleted with the user. */
  const userId = () => k.ref("user_id", () => users.id).notNull();
  /** `tenant_id` + `scope_id` for the named table, and their CHECK. */
  const tenantScope = (table: string) => k.tenantScope(table, () => tenantAccounts.id);

  // The tables others reference; the rest are written straight into the result.
  const users = k.table("users", {
    id: k.id(),
    email: k.text("email").notNull().unique(),
    passwordHash: k.text("password_hash").notNull(),
    displayName: k.text("display_name"),
    /** When the address was proven (a verification link, a reset, an email change); null: unverified. */
    emailVerifiedAt: k.time("email_verified_at"),
    createdAt: k.createdAt(),
    updatedAt: k.time("updated_at").notNull(),
    /**
     * Set when the account was deleted. The row stays as a tombstone holding only the id (email
     * replaced by `deleted:<id>`, password hash emptied, name null), so that the consent records
     * and security events kept as evidence still reference it; nothing leads back to the person.
     */
    deletedAt: k.time("deleted_at"),
  });

  const tenantAccounts = k.table("tenant_accounts", {
    id: k.id(),
    name: k.text("name").notNull(),
    createdAt: k.createdAt(),
    /** Every tenant-scoped request needs an aal-2 session (403 tenant_mfa_required otherwise). */
    requireMfa: k.bool("require_mfa").notNull().default(false),
    /** Set when an owner deleted the tenant: the row stays (name erased) for the evidence that references it. */
    deletedAt: k.time("deleted_at"),
  });

  const userMfaMethods = k.table(
    "user_mfa_methods",
    {
      id: k.id(),
      userId: userId(),
      type: k.text("type", { enum: ["totp", "webauthn"] }).notNull(),
      status: k.text("status", { enum: ["pending", "verified"] }).notNull(),
      label: k.text("label"),
      /** The sealed TOTP secret; null for a passkey (its public key is in webauthn_credentials). */
      secretKeyId: k.text("secret_key_id"),
      secretCiphertext: k.text("secret_ciphertext"),
      lastUsedStep: k.bigint("last_used_step"),
      createdAt: k.createdAt(),
      verifiedAt: k.time("verified_at"),
      lastUsedAt: k.time("last_used_at"),
    },
    (t) => [k.index("user_mfa_methods_user_idx").on(t.userId)],
  );

  /**
   * A tenant's webhook endpoints. `events` is the subscription as text, `,type1,type2,` or
   * `,*,`, so "does it subscribe to type T" is the same LIKE on both dialects (the outbox insert
   * in functions/stores/webhooks.ts); the signing secret is sealed (AES-GCM, bound to the id).
   * Deleting an endpoint deletes its row, its secret and its deliveries.
   */
  const webhooks = k.table(
    "webhooks",
    {
      id: k.id(),
      tenantId: k.ref("tenant_id", () => tenantAccounts.id).notNull(),
      url: k.text("url").notNull(),
      events: k.text("events").notNull(),
      secretKeyId: k.text("secret_key_id").notNull(),
      secretCiphertext: k.text("secret_ciphertext").notNull(),
      /** Who created it (no foreign key: the endpoint does not depend on that account). */
      createdBy: k.uuid("created_by"),
      createdAt: k.createdAt(),
    },
    (t) => [k.index("webhooks_tenant_idx").on(t.tenantId)],
  );

  const consentScope = tenantScope("user_consents");
  const preferenceScope = tenantScope("user_notification_preferences");
  const usageScope = tenantScope("usage_counters");

  return {
    users,
    tenantAccounts,

    tenantMemberships: k.table(
      "tenant_memberships",
      {
        tenantId: k.ref("tenant_id", () => tenantAccounts.id).notNull(),
        userId: userId(),
        role: k.text("role", { enum: ["owner", "admin", "member"] }).notNull(),
        createdAt: k.createdAt(),
      },
      (t) => [
        k.primaryKey({ columns: [t.tenantId, t.userId] }),
        k.index("tenant_memberships_user_idx").on(t.userId),
      ],
    ),

    /**
     * Pending invitations only: accepting or revoking one deletes its row (so a token is single
     * use: the DELETE decides between racing accepts), and inviting an address again replaces
     * the row of that (tenant, email).
     */
    tenantInvitations: k.table(
      "tenant_invitations",
      {
        id: k.id(),
        tenantId: k.ref("tenant_id", () => tenantAccounts.id).notNull(),
        /** The invited address, trimmed and lower-cased. */
        email: k.text("email").notNull(),
        role: k.text("role", { enum: ["admin", "member"] }).notNull(),
        tokenHash: k.text("token_hash").notNull().unique(),
        /** Who invited (no foreign key: the invitation does not depend on the inviter's account). */
        invitedBy: k.uuid("invited_by"),
        createdAt: k.createdAt(),
        expiresAt: k.time("expires_at").notNull(),
      },
      (t) => [
        k.uniqueIndex("tenant_invitations_tenant_email_idx").on(t.tenantId, t.email),
        k.index("tenant_invitations_email_idx").on(t.email),
      ],
    ),

    userSessions: k.table(
      "user_sessions",
      {
        id: k.id(),
        userId: userId(),
        tokenHash: k.text("token_hash").notNull().unique(),
        aal: k.int("aal").notNull(),
        createdAt: k.createdAt(),
        lastSeenAt: k.time("last_seen_at").notNull(),
        expiresAt: k.time("expires_at").notNull(),
        absoluteExpiresAt: k.time("absolute_expires_at").notNull(),
        /** When a password or second factor was last checked for this session (step-up); null before v2. */
        authenticatedAt: k.time("authenticated_at"),
        revokedAt: k.time("revoked_at"),
        ipHash: k.text("ip_hash"),
        userAgentHash: k.text("user_agent_hash"),
      },
      (t) => [k.index("user_sessions_user_idx").on(t.userId)],
    ),

    mfaChallenges: k.table(
      "mfa_challenges",
      {
        id: k.id(),
        userId: userId(),
        tokenHash: k.text("token_hash").notNull().unique(),
        failedAttempts: k.int("failed_attempts").notNull().default(0),
        createdAt: k.createdAt(),
        expiresAt: k.time("expires_at").notNull(),
        consumedAt: k.time("consumed_at"),
      },
      (t) => [k.index("mfa_challenges_user_idx").on(t.userId)],
    ),

    passwordResetTokens: k.table(
      "password_reset_tokens",
      {
        id: k.id(),
        userId: userId(),
        tokenHash: k.text("token_hash").notNull().unique(),
        createdAt: k.createdAt(),
        expiresAt: k.time("expires_at").notNull(),
        usedAt: k.time("used_at"),
      },
      (t) => [k.index("password_reset_tokens_user_idx").on(t.userId)],
    ),

    outboxMessages: k.table(
      "outbox_messages",
      {
        id: k.id(),
        recipient: k.text("recipient").notNull(),
        kind: k.text("kind").notNull(),
        payloadKeyId: k.text("payload_key_id").notNull(),
        payloadCiphertext: k.text("payload_ciphertext").notNull(),
        createdAt: k.createdAt(),
        /** The account the message is about, if any (no foreign key: a deletion notice outlives it). */
        userId: k.uuid("user_id"),
        /** pending → sending (claimed by one dispatcher) → sent | failed; back to pending on a retryable error. */
        status: k
          .text("status", { enum: ["pending", "sending", "sent", "failed"] })
          .notNull()
          .default("pending"),
        attempts: k.int("attempts").notNull().default(0),
        /** Not before this time (backoff); null: at once. */
        nextAttemptAt: k.time("next_attempt_at"),
        /** A claim by a dispatcher lasts until then; a crashed dispatcher's claim expires. */
        claimedUntil: k.time("claimed_until"),
        /** What the last failure was (an error name or provider status, never a message body or token). */
        lastError: k.text("last_error"),
        sentAt: k.time("sent_at"),
      },
      (t) => [
        k.index("outbox_messages_recipient_idx").on(t.recipient, t.createdAt),
        k.index("outbox_messages_due_idx").on(t.status, t.nextAttemptAt),
      ],
    ),

    emailTokens: k.table(
      "email_tokens",
      {
        id: k.id(),
        userId: userId(),
        /** verify_email: proves `email` (the account's address); change_email: `email` is the new address. */
        purpose: k.text("purpose", { enum: ["verify_email", "change_email"] }).notNull(),
        email: k.text("email").notNull(),
        tokenHash: k.text("token_hash").notNull().unique(),
        createdAt: k.createdAt(),
        expiresAt: k.time("expires_at").notNull(),
        usedAt: k.time("used_at"),
      },
      (t) => [k.index("email_tokens_user_idx").on(t.userId)],
    ),

    userMfaMethods,

    /** A passkey's credential: one row per `webauthn` factor (deleted with it). */
    webauthnCredentials: k.table(
      "webauthn_credentials",
      {
        factorId: k.ref("factor_id", () => userMfaMethods.id).primaryKey(),
        userId: userId(),
        /** The credential id (base64url), unique across users: a credential belongs to one account. */
        credentialId: k.text("credential_id").notNull().unique(),
        /** COSE public key, base64url (public by nature). */
        publicKey: k.text("public_key").notNull(),
        signCount: k.bigint("sign_count").notNull().default(0),
        transports: k.json("transports"),
        backupEligible: k.bool("backup_eligible").notNull(),
        backupState: k.bool("backup_state").notNull(),
        aaguid: k.text("aaguid"),
        createdAt: k.createdAt(),
      },
      (t) => [k.index("webauthn_credentials_user_idx").on(t.userId)],
    ),

    /**
     * WebAuthn challenges: single use (consumed by a compare-and-set), 5 minutes, stored as a
     * keyed hash. `binding` ties an assertion challenge to what it completes (an MFA challenge,
     * a reset token, a session), so it cannot be used in another flow.
     */
    webauthnChallenges: k.table(
      "webauthn_challenges",
      {
        id: k.id(),
        purpose: k.text("purpose", { enum: ["registration", "authentication", "passkey"] }).notNull(),
        userId: k.ref("user_id", () => users.id),
        binding: k.text("binding"),
        challengeHash: k.text("challenge_hash").notNull().unique(),
        createdAt: k.createdAt(),
        expiresAt: k.time("expires_at").notNull(),
        consumedAt: k.time("consumed_at"),
      },
      (t) => [k.index("webauthn_challenges_expiry_idx").on(t.expiresAt)],
    ),

    userRecoveryCodes: k.table(
      "user_recovery_codes",
      {
        id: k.id(),
        userId: userId(),
        codeHash: k.text("code_hash").notNull(),
        createdAt: k.createdAt(),
        usedAt: k.time("used_at"),
      },
      (t) => [k.uniqueIndex("user_recovery_codes_user_code_idx").on(t.userId, t.codeHash)],
    ),

    userConsents: k.table(
      "user_consents",
      {
        id: k.id(),
        userId: userId(),
        ...consentScope.columns,
        policy: k.text("policy").notNull(),
        version: k.text("version").notNull(),
        decision: k.text("decision", { enum: ["granted", "revoked"] }).notNull(),
        source: k.text("source"),
        ipHash: k.text("ip_hash"),
        userAgentHash: k.text("user_agent_hash"),
        requestId: k.text("request_id").notNull(),
        createdAt: k.createdAt(),
      },
      (t) => [
        k.index("user_consents_scope_idx").on(t.userId, t.scopeId, t.policy, t.id),
        consentScope.check(t),
      ],
    ),

    userNotificationPreferences: k.table(
      "user_notification_preferences",
      {
        id: k.id(),
        userId: userId(),
        ...preferenceScope.columns,
        channel: k.text("channel", { enum: ["email", "sms", "push", "in_app"] }).notNull(),
        category: k.text("category").notNull(),
        enabled: k.bool("enabled").notNull(),
        createdAt: k.createdAt(),
        updatedAt: k.time("updated_at").notNull(),
      },
      (t) => [
        k.uniqueIndex("user_notification_preferences_key_idx").on(t.userId, t.scopeId, t.channel, t.category),
        preferenceScope.check(t),
      ],
    ),

    usageCounters: k.table(
      "usage_counters",
      {
        userId: userId(),
        ...usageScope.columns,
        feature: k.text("feature").notNull(),
        periodStart: k.date("period_start").notNull(),
        total: k.bigint("total").notNull(),
        updatedAt: k.time("updated_at").notNull(),
      },
      (t) => [
        k.primaryKey({ columns: [t.userId, t.scopeId, t.feature, t.periodStart] }),
        k.index("usage_counters_scope_idx").on(t.scopeId, t.feature, t.periodStart),
        usageScope.check(t),
      ],
    ),

    usageIdempotencyKeys: k.table(
      "usage_idempotency_keys",
      {
        userId: userId(),
        key: k.text("key").notNull(),
        requestHash: k.text("request_hash").notNull(),
        response: k.json("response"),
        createdAt: k.createdAt(),
        expiresAt: k.time("expires_at").notNull(),
      },
      (t) => [
        k.primaryKey({ columns: [t.userId, t.key] }),
        k.index("usage_idempotency_keys_expiry_idx").on(t.expiresAt),
      ],
    ),

    /**
     * Tenant API keys for the /v1/service/* routes. Only the SHA-256 of the key is stored (a
     * key is 256 random bits, like a session token); `prefix` is its first characters, shown so
     * people can tell keys apart. Revoking sets `revoked_at` (the row stays for the audit trail).
     */
    apiKeys: k.table(
      "api_keys",
      {
        id: k.id(),
        tenantId: k.ref("tenant_id", () => tenantAccounts.id).notNull(),
        name: k.text("name").notNull(),
        /** The granted scopes, a JSON array of scope names. */
        scopes: k.json("scopes").notNull(),
        prefix: k.text("prefix").notNull(),
        keyHash: k.text("key_hash").notNull().unique(),
        /** Who created it (no foreign key: the key belongs to the tenant, not to its creator). */
        createdBy: k.uuid("created_by"),
        createdAt: k.createdAt(),
        /** Updated at most once a minute (functions/auth/api-key.ts). */
        lastUsedAt: k.time("last_used_at"),
        revokedAt: k.time("revoked_at"),
      },
      (t) => [k.index("api_keys_tenant_idx").on(t.tenantId, t.id)],
    ),

    securityEvents: k.table(
      "security_events",
      {
        id: k.id(),
        type: k.text("type").notNull(),
        userId: k.ref("user_id", () => users.id),
        tenantId: k.ref("tenant_id", () => tenantAccounts.id),
        /** Who acted: the signed-in user of the request (null when nobody signed in did); no foreign key. */
        actorUserId: k.uuid("actor_user_id"),
        requestId: k.text("request_id").notNull(),
        ipHash: k.text("ip_hash"),
        userAgentHash: k.text("user_agent_hash"),
        metadata: k.json("metadata").notNull(),
        createdAt: k.createdAt(),
      },
      (t) => [
        k.index("security_events_user_idx").on(t.userId, t.id),
        k.index("security_events_tenant_idx").on(t.tenantId, t.id),
      ],
    ),

    webhooks,

    /**
     * The webhook outbox: one row per (endpoint, event), written in the same atomic step as the
     * event. pending → sending (claimed by one dispatcher) → delivered | failed; back to pending
     * after a failed attempt. The id is UUIDv7-shaped and derived from the event's id (see
     * functions/stores/webhooks.ts), so deliveries sort by event time.
     */
    webhookDeliveries: k.table(
      "webhook_deliveries",
      {
        /**
         * The delivered event's id: a webhook receives each event once, so (webhook, id) is the key,
         * and the Standard Webhooks `webhook-id` (a receiver's dedup key) stays the same on retries.
         */
        id: k.uuid("id").notNull(),
        webhookId: k.ref("webhook_id", () => webhooks.id).notNull(),
        tenantId: k.ref("tenant_id", () => tenantAccounts.id).notNull(),
        /** The security event delivered (no foreign key: the payload below is what is sent). */
        eventId: k.uuid("event_id").notNull(),
        eventType: k.text("event_type").notNull(),
        /** The JSON body sent: { id, type, createdAt, tenantId, actorUserId, requestId, metadata }. */
        payload: k.json("payload").notNull(),
        status: k
          .text("status", { enum: ["pending", "sending", "delivered", "failed"] })
          .notNull()
          .default("pending"),
        attempts: k.int("attempts").notNull().default(0),
        /** The HTTP status of the last answer; null before any, or when there was none (timeout, refused). */
        lastStatusCode: k.int("last_status_code"),
        /** Not before this time (backoff); null: at once. */
        nextAttemptAt: k.time("next_attempt_at"),
        /** A claim by a dispatcher lasts until then; a crashed dispatcher's claim expires. */
        claimedUntil: k.time("claimed_until"),
        createdAt: k.createdAt(),
        deliveredAt: k.time("delivered_at"),
      },
      (t) => [
        k.primaryKey({ columns: [t.webhookId, t.id] }),
        k.index("webhook_deliveries_due_idx").on(t.status, t.nextAttemptAt),
        k.index("webhook_deliveries_event_idx").on(t.eventId),
      ],
    ),

    rateLimitBuckets: k.table(
      "rate_limit_buckets",
      {
        key: k.text("key").notNull(),
        windowStart: k.bigint("window_start").notNull(),
        hits: k.int("hits").notNull(),
        expiresAt: k.time("expires_at").notNull(),
      },
      (t) => [
        k.primaryKey({ columns: [t.key, t.windowStart] }),
        k.index("rate_limit_buckets_expiry_idx").on(t.expiresAt),
      ],
    ),
  };
}

/** Postgres (Neon) schema: the tables of db/tables.ts, built with the Postgres column kit. */
import { pgKit } from "./columns.pg";
import { defineTables } from "./tables";

// Marked pure (no side effect: it only builds table objects), so a bundle that never uses
// this dialect drops it with drizzle's column code: the Worker built for one database only.
export const {
  users,
  tenantAccounts,
  tenantMemberships,
  tenantInvitations,
  userSessions,
  mfaChallenges,
  passwordResetTokens,
  outboxMessages,
  emailTokens,
  userMfaMethods,
  userRecoveryCodes,
  webauthnCredentials,
  webauthnChallenges,
  userConsents,
  userNotificationPreferences,
  usageCounters,
  usageIdempotencyKeys,
  apiKeys,
  securityEvents,
  rateLimitBuckets,
  webhooks,
  webhookDeliveries,
} = /* @__PURE__ */ defineTables(pgKit);

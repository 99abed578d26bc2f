/** Postgres (Neon) schema: the tables of db/tables.ts, built with the Postgres column kit. */
import { pgKit } from "./columns.pg";
import { defineTables } from "./tables";

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
} = defineTables(pgKit);

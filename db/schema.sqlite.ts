/** SQLite (libSQL, D1) schema: the tables of db/tables.ts, built with the SQLite column kit. */
import { sqliteKit } from "./columns.sqlite";
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
} = defineTables(sqliteKit);

/** SQLite (libSQL, D1) schema: the tables of db/tables.ts, built with the SQLite column kit. */
import { sqliteKit } from "./columns.sqlite";
import { defineTables, tableOf } from "./tables";

// Every statement below is a call marked pure (each only builds or picks table objects), so a
// bundle that never uses this dialect drops all of it with drizzle's column code: the Worker
// built for one database only. Not `export const { users, ... } = defineTables(...)`, nor
// `= tables.users`: esbuild keeps a destructuring or a property read (a getter may run).
const tables = /* @__PURE__ */ defineTables(sqliteKit);
export const users = /* @__PURE__ */ tableOf(tables, "users");
export const tenantAccounts = /* @__PURE__ */ tableOf(tables, "tenantAccounts");
export const tenantMemberships = /* @__PURE__ */ tableOf(tables, "tenantMemberships");
export const tenantInvitations = /* @__PURE__ */ tableOf(tables, "tenantInvitations");
export const userSessions = /* @__PURE__ */ tableOf(tables, "userSessions");
export const mfaChallenges = /* @__PURE__ */ tableOf(tables, "mfaChallenges");
export const passwordResetTokens = /* @__PURE__ */ tableOf(tables, "passwordResetTokens");
export const outboxMessages = /* @__PURE__ */ tableOf(tables, "outboxMessages");
export const emailTokens = /* @__PURE__ */ tableOf(tables, "emailTokens");
export const userMfaMethods = /* @__PURE__ */ tableOf(tables, "userMfaMethods");
export const userRecoveryCodes = /* @__PURE__ */ tableOf(tables, "userRecoveryCodes");
export const webauthnCredentials = /* @__PURE__ */ tableOf(tables, "webauthnCredentials");
export const webauthnChallenges = /* @__PURE__ */ tableOf(tables, "webauthnChallenges");
export const userConsents = /* @__PURE__ */ tableOf(tables, "userConsents");
export const userNotificationPreferences = /* @__PURE__ */ tableOf(tables, "userNotificationPreferences");
export const usageCounters = /* @__PURE__ */ tableOf(tables, "usageCounters");
export const usageIdempotencyKeys = /* @__PURE__ */ tableOf(tables, "usageIdempotencyKeys");
export const apiKeys = /* @__PURE__ */ tableOf(tables, "apiKeys");
export const securityEvents = /* @__PURE__ */ tableOf(tables, "securityEvents");
export const rateLimitBuckets = /* @__PURE__ */ tableOf(tables, "rateLimitBuckets");
export const webhooks = /* @__PURE__ */ tableOf(tables, "webhooks");
export const webhookDeliveries = /* @__PURE__ */ tableOf(tables, "webhookDeliveries");

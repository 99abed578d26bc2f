/**
 * The security event writer. Routes say what happened (type, user, tenant, metadata); the
 * writer adds the request id and the keyed hashes of IP and user agent. Metadata must never
 * carry a secret, token, password, plain IP or user agent: only ids, counts and reasons.
 */
import { uuidv7 } from "uuidv7";
import type { Schema } from "../db/database";
import type { RequestScope } from "./context";
import { insertSecurityEvents } from "./stores/security-events";

export const SECURITY_EVENT_TYPES = [
  "user.registered",
  "auth.login_succeeded",
  "auth.login_failed",
  "auth.mfa_challenge_issued",
  "auth.mfa_succeeded",
  "auth.mfa_failed",
  "auth.rate_limited",
  "auth.logout",
  "auth.password_reset_requested",
  "auth.password_reset_completed",
  "mfa.totp_enrollment_started",
  "mfa.factor_verified",
  "mfa.factor_removed",
  "mfa.recovery_code_used",
  "mfa.recovery_codes_regenerated",
  "mfa.passkey_registered",
  "mfa.passkey_counter_regression",
  "session.revoked",
  "consent.recorded",
  "tenant.member_added",
  "tenant.member_removed",
  "auth.reauthenticated",
  "auth.email_verified",
  "auth.password_changed",
  "auth.email_changed",
  "user.deleted",
  "user.data_exported",
  "tenant.created",
  "tenant.updated",
  "tenant.deleted",
  "tenant.member_role_changed",
  "tenant.invitation_created",
  "tenant.invitation_revoked",
  "tenant.invitation_accepted",
  "api_key.created",
  "api_key.revoked",
  "webhook.created",
  "webhook.deleted",
] as const;

export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];

export interface SecurityEventInput {
  type: SecurityEventType;
  /** The account the event belongs to; null for attempts on no known account. */
  userId: string | null;
  /** The tenant of a tenant-scoped request (its feed shows the event); default none. */
  tenantId?: string | null;
  metadata?: Record<string, string | number | boolean | null>;
}

export type SecurityEventRow = Schema["securityEvents"]["$inferInsert"];

/**
 * The row for an event, to insert alone (recordSecurityEvent) or inside `atomic()` with the
 * change it records: `atomic((db) => [..., ...insertSecurityEvents(db, t, [row])])`.
 */
export async function securityEventRow(
  scope: RequestScope,
  input: SecurityEventInput,
): Promise<SecurityEventRow> {
  const { ipHash, userAgentHash } = await scope.client.hashes();
  return {
    id: uuidv7(),
    type: input.type,
    userId: input.userId,
    tenantId: input.tenantId ?? null,
    // Who acted: the signed-in caller, when the request has one.
    actorUserId: "auth" in scope ? (scope as { auth: { userId: string } }).auth.userId : null,
    requestId: scope.requestId,
    ipHash,
    userAgentHash,
    metadata: input.metadata ?? {},
    createdAt: scope.now,
  };
}

/** Writes one security event now (with its webhook deliveries, when it is a tenant's: one batch). */
export async function recordSecurityEvent(scope: RequestScope, input: SecurityEventInput): Promise<void> {
  const { db, t } = scope.db;
  const row = await securityEventRow(scope, input);
  // A tenant's event is two statements (the event, its deliveries); any other is one.
  if (row.tenantId) await scope.db.atomic((tx) => insertSecurityEvents(tx, t, [row]));
  else await insertSecurityEvents(db, t, [row])[0];
}

/**
 * The account itself (mounted at /v1/me): the caller with its session and MFA summary, the
 * export of every record the service holds about the caller, and the deletion of the account.
 */
import { prepareNotice } from "../auth/mail";
import { ListedSessionSchema, UserSchema } from "../auth/schemas";
import { checkRecentAuthentication, STEP_UP_ERRORS, stepUpFields, withStepUp } from "../auth/step-up";
import { streamJson } from "../http/json-stream";
import { ApiError } from "../http/problems";
import { json, noContent } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonRequest, jsonResponse } from "../http/schemas";
import { validate } from "../http/validation";
import * as z from "../http/zod";
import { SecondFactorBody, verifySecondFactor, withOptionalSecondFactor } from "../mfa/second-factor";
import { SECURITY_EVENT_TYPES, securityEventRow } from "../security-events";
import { deleteAccount, findAccountForDeletion, findAccountSummaryBySession } from "../stores/account";
import {
  consentPages,
  findExportHead,
  preferencePages,
  securityEventPages,
  sessionPages,
  tenantPages,
  usagePages,
} from "../stores/export";
import { factorView } from "../stores/factors";
import { insertSecurityEvents } from "../stores/security-events";
import { authState } from "../stores/sessions";
import { findUserById, userView } from "../stores/users";
import { TenantMembershipSchema } from "./tenant-schemas";

const MeSchema = z
  .object({
    user: UserSchema,
    session: z.object({
      id: z.string(),
      aal: z.number().int(),
      expiresAt: z.string(),
      authenticatedAt: z.string(),
    }),
    mfa: z.object({
      enabled: z.boolean(),
      verifiedFactors: z.number().int(),
      recoveryCodesRemaining: z.number().int(),
    }),
  })
  .openapi("Me");

const me = defineRoute(
  {
    method: "get",
    path: "/",
    tags: ["auth"],
    summary: "The caller, the current session and MFA status",
    security: [{ bearer: [] }],
    // One round trip: the session lookup and the summary are one statement.
    sessionCheck: "folded",
    responses: { 200: jsonResponse("Me", MeSchema) },
  },
  async (scope) => {
    const found = await findAccountSummaryBySession(scope.db, scope.session.tokenHash, scope.now);
    const expiry = scope.session.confirm(found?.session ?? null);
    const { summary: row, session } = found!;
    const { sessionId, aal, expiresAt, authenticatedAt } = authState(session, expiry ?? session.expiresAt);
    return json({
      user: userView(row),
      session: {
        id: sessionId,
        aal,
        expiresAt: expiresAt.toISOString(),
        authenticatedAt: authenticatedAt.toISOString(),
      },
      mfa: {
        enabled: row.verifiedFactors > 0,
        verifiedFactors: row.verifiedFactors,
        recoveryCodesRemaining: row.recoveryCodesRemaining,
      },
    });
  },
);

const nullable = z.string().nullable();

/** The export document: each list as the endpoint that shows the same records answers it. */
const AccountExportSchema = z
  .object({
    exportedAt: z.string(),
    user: UserSchema,
    sessions: z.array(ListedSessionSchema),
    factors: z.array(
      z.object({
        id: z.string(),
        type: z.literal("totp"),
        status: z.enum(["pending", "verified"]),
        label: nullable,
        createdAt: z.string(),
        lastUsedAt: nullable,
      }),
    ),
    recoveryCodes: z.object({ remaining: z.number().int(), createdAt: nullable }),
    tenants: z.array(TenantMembershipSchema),
    consents: z.array(
      z.object({
        id: z.string(),
        policy: z.string(),
        version: z.string(),
        decision: z.enum(["granted", "revoked"]),
        tenantId: nullable,
        source: nullable,
        createdAt: z.string(),
      }),
    ),
    notificationPreferences: z.array(
      z.object({
        tenantId: nullable,
        channel: z.enum(["email", "sms", "push", "in_app"]),
        category: z.string(),
        enabled: z.boolean(),
        updatedAt: z.string(),
      }),
    ),
    usage: z.array(
      z.object({ feature: z.string(), tenantId: nullable, periodStart: z.string(), total: z.number().int() }),
    ),
    securityEvents: z.array(
      z.object({
        id: z.string(),
        type: z.enum(SECURITY_EVENT_TYPES),
        createdAt: z.string(),
        requestId: z.string(),
        tenantId: nullable,
        ipHash: nullable,
        userAgentHash: nullable,
        metadata: z.record(z.string(), z.unknown()),
      }),
    ),
  })
  .openapi("AccountExport");

const exportAccount = defineRoute(
  {
    method: "post",
    path: "/export",
    tags: ["auth"],
    summary: "Everything the service holds about the caller, as a JSON download (step-up)",
    description:
      "Sessions (live ones, without tokens), factors, the recovery-code count, tenants, the full consent history, " +
      "preferences of every scope, usage counters and security events. No secret, token or hash of one.",
    security: [{ bearer: [] }],
    request: jsonRequest(z.object(stepUpFields), false),
    responses: {
      200: {
        ...jsonResponse("The export document, streamed", AccountExportSchema),
        headers: z.object({ "Content-Disposition": z.string() }),
      },
    },
    errors: [...STEP_UP_ERRORS],
  },
  async (scope, { body }) => {
    const { userId, sessionId } = scope.auth;
    // The user (with its password hash), its factors and recovery codes: one round trip.
    const head = await findExportHead(scope.db, userId);
    const stepUp = await checkRecentAuthentication(scope, body.currentPassword, head?.user ?? null);
    if (!head) throw new ApiError("unauthorized");
    const { user, factors, recovery } = head;
    // Recorded first, so the export holds its own event (and a stolen session's export shows);
    // with the step-up's mark, in one batch.
    const event = await securityEventRow(scope, { type: "user.data_exported", userId });
    const { t } = scope.db;
    await scope.db.atomic((db) => [...insertSecurityEvents(db, t, [event]), ...stepUp.statements(db)]);
    const { response, finished } = streamJson(
      {
        exportedAt: scope.now.toISOString(),
        user: userView(user),
        sessions: sessionPages(scope.db, { userId, currentSessionId: sessionId, now: scope.now }),
        factors: factors.map(factorView),
        recoveryCodes: {
          remaining: recovery.remaining,
          createdAt: recovery.createdAt?.toISOString() ?? null,
        },
        tenants: tenantPages(scope.db, userId),
        consents: consentPages(scope.db, userId),
        notificationPreferences: preferencePages(scope.db, userId),
        usage: usagePages(scope.db, userId),
        securityEvents: securityEventPages(scope.db, userId),
      },
      {
        headers: { "Content-Disposition": 'attachment; filename="account-export.json"' },
        onError: (error) =>
          scope.log({
            level: "error",
            msg: "export stream failed",
            requestId: scope.requestId,
            error: error instanceof Error ? error.name : typeof error,
          }),
      },
    );
    // The pages are read while the client reads the body: the request's database stays open
    // until then (after-response work runs before it is closed).
    scope.afterResponse(() => finished);
    return response;
  },
);

const deleteMe = defineRoute(
  {
    method: "delete",
    path: "/",
    tags: ["auth"],
    summary: "Delete the account (step-up; with MFA also a current code or a recovery code)",
    description:
      "Erases the personal data at once; consent records and security events stay under the id. " +
      "409 last_owner while the caller is the last owner of a tenant that has other members.",
    security: [{ bearer: [] }],
    request: jsonRequest(withOptionalSecondFactor(stepUpFields), false),
    responses: { 204: { description: "Deleted" } },
    errors: [...STEP_UP_ERRORS, "invalid_mfa_code", "last_owner"],
  },
  async (scope, { body }) => {
    const { userId } = scope.auth;
    const lastOwner = () =>
      new ApiError("last_owner", "Make another member an owner of each shared tenant you own first.");
    // The user with its password hash, the last-owner check, the factor count and the tenants
    // that go with the account: one round trip. The step-up's mark joins the deletion batch.
    const account = await findAccountForDeletion(scope.db, userId);
    const stepUp = await checkRecentAuthentication(scope, body.currentPassword, account);
    return withStepUp(stepUp, async () => {
      // Gone meanwhile (a concurrent deletion): it is gone, as asked.
      if (!account) return noContent();
      // Before the second factor is spent; the deletion batch checks it again, in the statement.
      if (account.lastOwner) throw lastOwner();
      if (account.verifiedFactors > 0) {
        // As for removing a verified factor: exactly one current second factor (else 400).
        const proof = validate(SecondFactorBody, body, "body");
        await verifySecondFactor(scope, { userId, flow: "delete_account" }, proof);
      }
      const deleted = await deleteAccount(scope.db, {
        userId,
        now: scope.now,
        notice: await prepareNotice(scope, userId, "account_deleted"),
        event: await securityEventRow(scope, { type: "user.deleted", userId }),
        tenantEvents: await Promise.all(
          account.soleTenants.map((tenantId) =>
            securityEventRow(scope, {
              type: "tenant.deleted",
              userId,
              tenantId,
              metadata: { reason: "account_deleted" },
            }),
          ),
        ),
        also: stepUp.statements,
      });
      // Nothing deleted: the account became the last owner meanwhile, or a concurrent request
      // deleted it already (then it is gone, as asked).
      if (!deleted && (await findUserById(scope.db, userId))) throw lastOwner();
      return noContent();
    });
  },
);

/** The account: GET and DELETE /v1/me, POST /v1/me/export (mounted at /v1/me). */
export const meRoutes = routeModule(me, exportAccount, deleteMe);

/**
 * The consent ledger: append-only records of a user's decisions on a policy version, per scope
 * (global, or one tenant). Nothing here updates or deletes a record; the "current" consent is
 * simply the newest record per policy (ids are UUIDv7, so id order is insertion order).
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { and, asc, desc, eq, gt, lt, notExists, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import { uuidv7 } from "uuidv7";
import { requireTenantRole } from "../auth/tenant-guard";
import type { AppContext, AppEnv } from "../context";
import { PageQuery, page } from "../http/pagination";
import { defineRoute } from "../http/route";
import { jsonRequest, jsonResponse, problemResponses } from "../http/schemas";
import { jsonBody, query } from "../http/validation";
import { requireAuth } from "../middleware/auth";
import { securityEventRow } from "../security-events";
import { OptionalTenantId, Slug, TenantScopeQuery } from "../tenant-data/schemas";
import { scopeIdOf } from "../tenant-data/sql";

const Decision = z.enum(["granted", "revoked"]);

const ConsentSchema = z
  .object({
    id: z.string(),
    policy: z.string(),
    version: z.string(),
    decision: Decision,
    tenantId: z.string().nullable(),
    source: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("Consent");

const RecordBody = z.object({
  policy: Slug,
  version: z.string().min(1).max(32),
  decision: Decision,
  tenantId: OptionalTenantId,
  source: z.string().min(1).max(64).optional(),
});

const HistoryQuery = PageQuery.extend({ policy: Slug.optional(), tenantId: OptionalTenantId });

interface ConsentRow {
  id: string;
  policy: string;
  version: string;
  decision: "granted" | "revoked";
  tenantId: string | null;
  source: string | null;
  createdAt: Date;
}

const view = (r: ConsentRow) => ({ ...r, createdAt: r.createdAt.toISOString() });

const columns = (c: AppContext) => {
  const uc = c.var.db.t.userConsents;
  return {
    id: uc.id,
    policy: uc.policy,
    version: uc.version,
    decision: uc.decision,
    tenantId: uc.tenantId,
    source: uc.source,
    createdAt: uc.createdAt,
  };
};

const withRecord = defineRoute(
  new OpenAPIHono<AppEnv>(),
  createRoute({
    method: "post",
    path: "/",
    tags: ["consents"],
    summary: "Record a consent decision (append-only)",
    security: [{ bearer: [] }],
    request: jsonRequest(RecordBody),
    responses: {
      201: jsonResponse("The recorded consent", z.object({ consent: ConsentSchema })),
      ...problemResponses(
        "invalid_request",
        "unauthorized",
        "forbidden",
        "unsupported_media_type",
        "payload_too_large",
      ),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const body = await jsonBody(c, RecordBody);
    const userId = c.var.auth.userId;
    const tenantId = body.tenantId ?? null;
    if (tenantId) await requireTenantRole(c, tenantId);
    const { t } = c.var.db;
    const { ipHash, userAgentHash } = await c.var.client.hashes();
    const record = {
      id: uuidv7(),
      policy: body.policy,
      version: body.version,
      decision: body.decision,
      tenantId,
      source: body.source ?? null,
      createdAt: c.var.now,
    };
    const event = await securityEventRow(c, {
      type: "consent.recorded",
      userId,
      tenantId,
      metadata: {
        consentId: record.id,
        policy: record.policy,
        version: record.version,
        decision: record.decision,
      },
    });
    // The record and its security event land together or not at all.
    await c.var.db.atomic((db) => [
      db.insert(t.userConsents).values({
        ...record,
        userId,
        scopeId: scopeIdOf(tenantId),
        ipHash,
        userAgentHash,
        requestId: c.var.requestId,
      }),
      db.insert(t.securityEvents).values(event),
    ]);
    return c.json({ consent: view(record) }, 201);
  },
);

const withLatest = defineRoute(
  withRecord,
  createRoute({
    method: "get",
    path: "/",
    tags: ["consents"],
    summary: "The latest record per policy in one scope (global without tenantId)",
    security: [{ bearer: [] }],
    request: { query: TenantScopeQuery },
    responses: {
      200: jsonResponse("Current consents", z.object({ consents: z.array(ConsentSchema) })),
      ...problemResponses("invalid_request", "unauthorized", "forbidden"),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const { tenantId } = query(c, TenantScopeQuery);
    if (tenantId) await requireTenantRole(c, tenantId);
    const { db, t } = c.var.db;
    const uc = t.userConsents;
    const newer = alias(uc, "newer");
    // Latest per policy = no newer record of the same (user, scope, policy). NOT EXISTS rather
    // than max(id): Postgres has no max() for uuid. Served by user_consents_scope_idx.
    const rows = await db
      .select(columns(c))
      .from(uc)
      .where(
        and(
          eq(uc.userId, c.var.auth.userId),
          eq(uc.scopeId, scopeIdOf(tenantId)),
          notExists(
            db
              .select({ one: sql`1` })
              .from(newer)
              .where(
                and(
                  eq(newer.userId, uc.userId),
                  eq(newer.scopeId, uc.scopeId),
                  eq(newer.policy, uc.policy),
                  gt(newer.id, uc.id),
                ),
              ),
          ),
        ),
      )
      .orderBy(asc(uc.policy));
    return c.json({ consents: rows.map(view) });
  },
);

const withHistory = defineRoute(
  withLatest,
  createRoute({
    method: "get",
    path: "/history",
    tags: ["consents"],
    summary: "Every record in one scope, newest first, paginated",
    security: [{ bearer: [] }],
    request: { query: HistoryQuery },
    responses: {
      200: jsonResponse(
        "Consent history",
        z.object({ consents: z.array(ConsentSchema), nextCursor: z.string().nullable() }),
      ),
      ...problemResponses("invalid_request", "unauthorized", "forbidden"),
    },
  }),
  requireAuth(),
  async (c: AppContext) => {
    const q = query(c, HistoryQuery);
    if (q.tenantId) await requireTenantRole(c, q.tenantId);
    const { db, t } = c.var.db;
    const uc = t.userConsents;
    // One extra row tells whether another page exists.
    const rows = await db
      .select(columns(c))
      .from(uc)
      .where(
        and(
          eq(uc.userId, c.var.auth.userId),
          eq(uc.scopeId, scopeIdOf(q.tenantId)),
          q.policy ? eq(uc.policy, q.policy) : undefined,
          q.cursor ? lt(uc.id, q.cursor) : undefined,
        ),
      )
      .orderBy(desc(uc.id))
      .limit(q.limit + 1);
    const { items, nextCursor } = page(rows, q.limit);
    return c.json({ consents: items.map(view), nextCursor });
  },
);

/**
 * The consent ledger: record, latest per policy, history (mounted at /v1/consents).
 * Chained route by route (`with…` above), so its type carries every route for typed clients.
 */
export const consentRoutes = withHistory;

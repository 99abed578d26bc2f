/**
 * Development outbox reader, mounted only when APP_ENV=development (every other environment
 * answers 404 because the route does not exist). Decrypts the queued messages' payloads.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { asc, eq } from "drizzle-orm";
import { Email } from "../auth/schemas";
import type { AppContext, AppEnv } from "../context";
import { defineRoute } from "../http/route";
import { jsonResponse, problemResponses } from "../http/schemas";
import { query } from "../http/validation";

const OutboxQuery = z.object({ to: Email });
const OutboxSchema = z.object({
  messages: z.array(z.object({ to: z.string(), kind: z.string(), token: z.string(), createdAt: z.string() })),
});

/** The development outbox reader (mounted at /v1/dev in development only). */
export const devRoutes = defineRoute(
  new OpenAPIHono<AppEnv>(),
  createRoute({
    method: "get",
    path: "/outbox",
    tags: ["development"],
    summary: "Messages queued for an address (development only)",
    request: { query: OutboxQuery },
    responses: { 200: jsonResponse("Messages", OutboxSchema), ...problemResponses("invalid_request") },
  }),
  async (c: AppContext) => {
    const { to } = query(c, OutboxQuery);
    const { db, t } = c.var.db;
    const o = t.outboxMessages;
    const rows = await db.select().from(o).where(eq(o.recipient, to)).orderBy(asc(o.id));
    const messages = await Promise.all(
      rows.map(async (m) => {
        const payload = JSON.parse(
          await c.var.vault.box.open({ keyId: m.payloadKeyId, ciphertext: m.payloadCiphertext }, m.id),
        );
        return {
          to: m.recipient,
          kind: m.kind,
          token: String(payload.token),
          createdAt: m.createdAt.toISOString(),
        };
      }),
    );
    return c.json({ messages });
  },
);

/**
 * Development outbox reader, mounted only when APP_ENV=development (every other environment
 * answers 404 because the route does not exist). Decrypts the queued messages' payloads.
 */
import { Email } from "../auth/schemas";
import { json } from "../http/reply";
import { defineRoute, routeModule } from "../http/route";
import { jsonResponse } from "../http/schemas";
import * as z from "../http/zod";
import { renderMessage } from "../mail/messages";
import type { MessageKind, MessagePayload } from "../mail/types";
import { listOutboxMessages } from "../stores/outbox";

const OutboxSchema = z.object({
  messages: z.array(
    z.object({
      id: z.string(),
      to: z.string(),
      kind: z.string(),
      token: z.string().nullable(),
      subject: z.string(),
      text: z.string(),
      createdAt: z.string(),
    }),
  ),
});

const outbox = defineRoute(
  {
    method: "get",
    path: "/outbox",
    tags: ["development"],
    summary: "Messages queued for an address (development only)",
    request: { query: z.object({ to: Email }) },
    responses: { 200: jsonResponse("Messages", OutboxSchema) },
  },
  async (scope, { query }) => {
    const rows = await listOutboxMessages(scope.db, query.to);
    const messages = await Promise.all(
      rows.map(async (m) => {
        const payload: MessagePayload = JSON.parse(await scope.vault.box.open(m.payload, m.id));
        // The text a mailbox would show: what the dispatcher sends, rendered the same way.
        const rendered = renderMessage(m.kind as MessageKind, payload, scope.config.mail, m.recipient);
        return {
          id: m.id,
          to: m.recipient,
          kind: m.kind,
          token: payload.token ?? null,
          subject: rendered.subject,
          text: rendered.text,
          createdAt: m.createdAt.toISOString(),
        };
      }),
    );
    // Newest first.
    return json({ messages: messages.reverse() });
  },
);

/** The development outbox reader (mounted at /v1/dev in development only). */
export const devRoutes = routeModule(outbox);

/** Response schemas for security events, shared by the signed-in routes and the service routes. */
import * as z from "../http/zod";
import { SECURITY_EVENT_TYPES } from "../security-events";

export const SecurityEventSchema = z
  .object({
    id: z.string(),
    type: z.enum(SECURITY_EVENT_TYPES),
    createdAt: z.string(),
    requestId: z.string(),
    tenantId: z.string().nullable(),
    ipHash: z.string().nullable(),
    userAgentHash: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
  })
  .openapi("SecurityEvent");

export const SecurityEventPage = z
  .object({ events: z.array(SecurityEventSchema), nextCursor: z.string().nullable() })
  .openapi("SecurityEventPage");

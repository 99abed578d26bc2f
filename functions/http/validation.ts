/**
 * Request parsing: content type, size cap, JSON syntax, then the zod schema. Every failure is a
 * problem document (415, 413, 400 with field errors); nothing here ever answers 5xx.
 */
import type { Context } from "hono";
import { getRuntimeKey } from "hono/adapter";
import type { z } from "zod";
import { ApiError, type FieldError } from "./problems";
import { rejectUnstorableStrings } from "./strings";

/** Bodies above this many bytes are refused with 413, whatever Content-Length claims. */
export const MAX_BODY_BYTES = 65_536;

/**
 * workerd only: a streamed body refused for size is read on and thrown away, up to this many
 * bytes in all, so that it has ended before the 413 goes out. workerd does not finish a body
 * the Worker started reading and left half-read (cancelled or not): once the response is sent it
 * neuters the request body (workerd api/global-scope.c++), the rest fails with "Can't read from
 * request stream after response has been sent" (an uncaught TypeError), and the connection the
 * request came on is dropped, so the next request on it fails (under `wrangler dev`, whose proxy
 * pools connections, another client's request: a 503 without X-Request-Id). Measured with
 * `npm run dev`. A body the Worker never touched is discarded by the runtime itself, so a
 * declared Content-Length over the cap is still refused unread. Reading costs no memory (the
 * chunks are dropped); past this bound the client is streaming far more than any request here
 * needs, and the body is cancelled instead (its connection may then be dropped).
 * Node (@hono/node-server) and Lambda handle a cancelled body cleanly, so they stop at the cap.
 */
export const DRAIN_LIMIT_BYTES = 1_048_576;
const DRAIN_REFUSED_BODIES = getRuntimeKey() === "workerd";

const JSON_TYPE = /^application\/json\s*(;|$)/i;

function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
}

/** Validates `value` against `schema`, throwing 400 invalid_request with dotted field paths. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ApiError("invalid_request", `The ${where} is not valid.`, {
      errors: fieldErrors(result.error),
    });
  }
  return result.data;
}

/**
 * After the cap. On workerd the rest of the body is read to its end (up to DRAIN_LIMIT_BYTES in
 * all), so the 413 leaves nothing of it for the runtime to read; elsewhere, or past that bound,
 * the body is cancelled.
 */
async function refuseRest(reader: ReadableStreamDefaultReader<Uint8Array>, size: number): Promise<void> {
  if (DRAIN_REFUSED_BODIES) {
    try {
      for (let read = size; read <= DRAIN_LIMIT_BYTES; ) {
        const { done, value } = await reader.read();
        if (done) return;
        read += value.byteLength;
      }
    } catch {
      return; // the body errored (client gone): nothing is left to read
    }
  }
  await reader.cancel().catch(() => {});
}

async function readCapped(c: Context): Promise<Uint8Array | null> {
  const declared = c.req.header("content-length");
  // Refused unread: the runtime discards a body the app never touched (see DRAIN_LIMIT_BYTES).
  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) throw new ApiError("payload_too_large");
  const stream = c.req.raw.body;
  if (!stream) return null;
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await refuseRest(reader, size);
      throw new ApiError("payload_too_large");
    }
    chunks.push(value);
  }
  if (size === 0) return null;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Reads and validates a JSON object body. With `optional`, an absent body counts as `{}`
 * (endpoints whose fields are all optional); otherwise it is 400.
 */
export async function jsonBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  opts: { optional?: boolean } = {},
): Promise<z.output<S>> {
  const bytes = await readCapped(c);
  if (!bytes) {
    if (opts.optional) return validate(schema, {}, "body");
    throw new ApiError("invalid_request", "A JSON object body is required.");
  }
  if (!JSON_TYPE.test(c.req.header("content-type") ?? "")) throw new ApiError("unsupported_media_type");
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new ApiError("invalid_request", "The body is not valid JSON.");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiError("invalid_request", "The body must be a JSON object.");
  }
  rejectUnstorableStrings(value, "body");
  return validate(schema, value, "body");
}

/** Validates the query string (each key's first value). */
export function query<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return validate(schema, c.req.query(), "query");
}

/** Validates path parameters. */
export function params<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return validate(schema, c.req.param(), "path");
}

/**
 * Request parsing: content type, size cap, JSON syntax, then the zod schema. Every failure is a
 * problem document (415, 413, 400 with field errors); nothing here ever answers 5xx.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, type FieldError } from "./problems";
import { rejectUnstorableStrings } from "./strings";

/** Bodies above this many bytes are refused with 413, whatever Content-Length claims. */
export const MAX_BODY_BYTES = 65_536;

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

async function readCapped(c: Context): Promise<Uint8Array | null> {
  const declared = c.req.header("content-length");
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
      await reader.cancel().catch(() => {});
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

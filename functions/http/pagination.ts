/**
 * Cursor pagination for lists that grow without bound. Rows have UUIDv7 ids, so "newest first"
 * is `ORDER BY id DESC` and the cursor is the last id served (base64url, opaque to clients).
 */
import { base64UrlToBytes, bytesToBase64Url, utf8Decode, utf8Encode } from "../lib/encoding";
import * as z from "./zod";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function decodeCursor(value: string): string | null {
  try {
    const id = utf8Decode(base64UrlToBytes(value));
    return UUID.test(id) ? id : null;
  } catch {
    return null;
  }
}

/** Query fields `limit` (1–100, default 50) and `cursor` (decoded to the last id served). */
export const PageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .default(DEFAULT_PAGE_SIZE)
    .openapi({ description: `Page size: 1–${MAX_PAGE_SIZE}, default ${DEFAULT_PAGE_SIZE}` }),
  cursor: z
    .string()
    .optional()
    .openapi({ description: "The previous page's nextCursor (opaque); omitted: the newest page" })
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      const id = decodeCursor(value);
      if (!id) {
        ctx.addIssue({ code: "custom", message: "not a cursor this API issued" });
        return z.NEVER;
      }
      return id;
    }),
});

export type PageRequest = z.output<typeof PageQuery>;

/**
 * One page of a list, newest first: `fetch` gets the id to read below (the cursor) and asks for
 * one row more than the page holds, which tells whether another page exists.
 */
export async function fetchPage<T extends { id: string }>(
  q: PageRequest,
  fetch: (window: { before: string | undefined; limit: number }) => Promise<T[]>,
): Promise<{ items: T[]; nextCursor: string | null }> {
  return page(await fetch({ before: q.cursor, limit: q.limit + 1 }), q.limit);
}

/** Splits a page fetched with `limit + 1` rows into the rows to show and the next cursor. */
export function page<T extends { id: string }>(
  rows: T[],
  limit: number,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? bytesToBase64Url(utf8Encode(last.id)) : null };
}

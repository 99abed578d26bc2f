/**
 * Opaque cursors for id-ordered lists (UUIDv7 ids sort in creation order): the base64url of the
 * last id served. Opaque so clients do not build them; validated so a forged one is a 400, not
 * a database error.
 */
import { ApiError } from "../http/problems";
import { base64UrlToBytes, bytesToBase64Url, utf8Decode, utf8Encode } from "../lib/encoding";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The cursor that continues after `id`. */
export function encodeCursor(id: string): string {
  return bytesToBase64Url(utf8Encode(id));
}

/** The id a cursor continues after; 400 `invalid_request` (path `cursor`) for anything else. */
export function decodeCursor(cursor: string): string {
  let id: string | null = null;
  try {
    id = utf8Decode(base64UrlToBytes(cursor));
  } catch {
    id = null;
  }
  if (!id || !UUID.test(id)) {
    throw new ApiError("invalid_request", "The query is not valid.", {
      errors: [{ path: "cursor", message: "is not a cursor from this API" }],
    });
  }
  return id;
}

/**
 * Strings no backend can store. Postgres refuses U+0000 in `text` (an error, which would be a
 * 5xx), and an unpaired UTF-16 surrogate has no UTF-8 encoding (drivers replace or refuse it,
 * so what is stored would differ from what was sent, and differ per backend). Both are refused
 * at the door as 400 on every backend, before any lookup.
 */
import { ApiError, type FieldError } from "./problems";

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding U+0000 is the point.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function walk(value: unknown, path: string[], found: FieldError[]): void {
  if (found.length >= 10) return;
  if (typeof value === "string") {
    if (UNSTORABLE.test(value)) {
      found.push({ path: path.join("."), message: "must not contain U+0000 or an unpaired surrogate" });
    }
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) walk(v, [...path, String(i)], found);
  } else if (value !== null && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) {
      // A key is stored too when it is a free-form field name; refuse it the same way.
      walk(key, [...path, key], found);
      walk(v, [...path, key], found);
    }
  }
}

/** Throws 400 invalid_request naming each string (or key) in `value` that cannot be stored. */
export function rejectUnstorableStrings(value: unknown, where: string): void {
  const errors: FieldError[] = [];
  walk(value, [], errors);
  if (errors.length > 0) throw new ApiError("invalid_request", `The ${where} is not valid.`, { errors });
}

/**
 * Tenant API keys: minting them, and authenticating the /v1/service/* routes with them. Kept
 * apart from session authentication (auth/authenticate.ts): a key never authenticates a user
 * route and a session token never a service route (their shapes differ, so each lookup refuses
 * the other's credential before touching the database).
 */
import type { KeyState, RequestScope } from "../context";
import { ApiError } from "../http/problems";
import { generateToken, sha256Hex } from "../lib/tokens";
import { findLiveApiKey, touchApiKey } from "../stores/api-keys";

/** What a key may be granted; a service route names the one it needs in its spec. */
export const API_KEY_SCOPES = [
  "sessions:introspect",
  "usage:write",
  "usage:read",
  "preferences:read",
  "consents:read",
  "events:read",
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

const KEY_PREFIX = "udh_";
/** 32 random bytes (256 bits, as session tokens), base64url: 43 characters after the prefix. */
const KEY_BYTES = 32;
const KEY_SHAPE = /^udh_[A-Za-z0-9_-]{43}$/;
/** Characters of the key shown in listings (after `udh_`): enough to tell keys apart, far from enough to guess. */
const VISIBLE_CHARS = 8;
/** `lastUsedAt` is written at most this often per key (a busy key costs no write per request). */
export const LAST_USED_INTERVAL_MS = 60_000;

const BEARER = /^Bearer ([^\s]+)$/i;

/** A fresh key (shown once), its stored hash and its visible prefix. */
export async function mintApiKey(): Promise<{ key: string; keyHash: string; prefix: string }> {
  const random = generateToken(KEY_BYTES);
  const key = `${KEY_PREFIX}${random}`;
  return { key, keyHash: await sha256Hex(key), prefix: random.slice(0, VISIBLE_CHARS) };
}

/**
 * The live key named by `Authorization: Bearer udh_…`, holding `required`: 401 when missing,
 * malformed, unknown or revoked (or its tenant deleted), 403 insufficient_scope when it lacks
 * the scope. One statement reads the key with its tenant; `lastUsedAt`, when older than a
 * minute, is written after the response (a conditional UPDATE, so it never delays the answer
 * and concurrent requests write it once).
 */
export async function authenticateApiKey(
  scope: RequestScope,
  authorization: string | undefined,
  required: readonly string[],
): Promise<KeyState> {
  const key = BEARER.exec(authorization ?? "")?.[1];
  const found = key && KEY_SHAPE.test(key) ? await findLiveApiKey(scope.db, await sha256Hex(key)) : null;
  if (!found) throw new ApiError("unauthorized", undefined, { headers: { "WWW-Authenticate": "Bearer" } });
  if (!required.every((s) => found.scopes.includes(s))) {
    throw new ApiError("insufficient_scope", `This route needs the scope ${required.join(", ")}.`);
  }
  const { lastUsedAt, ...state } = found;
  if (!lastUsedAt || scope.now.getTime() - lastUsedAt.getTime() >= LAST_USED_INTERVAL_MS) {
    scope.afterResponse(() => touchApiKey(scope.db, found.id, scope.now, LAST_USED_INTERVAL_MS));
  }
  return state;
}

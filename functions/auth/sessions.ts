/**
 * Issuing sessions: 256-bit opaque bearer tokens, of which only the SHA-256 is stored
 * (stores/sessions.ts holds the queries). The token is shown once, in the answer that issues it.
 */
import { uuidv7 } from "uuidv7";
import type { RequestScope } from "../context";
import { generateToken, sha256Hex } from "../lib/tokens";
import { earliest, type SessionInsert } from "../stores/sessions";

export interface IssuedSession {
  token: string;
  id: string;
  aal: number;
  expiresAt: string;
}

/**
 * Prepares a new session: the row (to insert in an atomic batch with what it accompanies) and
 * the answer that shows the token, once.
 */
export async function prepareSession(
  scope: RequestScope,
  userId: string,
  aal: 1 | 2,
): Promise<{ row: SessionInsert; session: IssuedSession }> {
  const { session: lifetimes } = scope.config;
  const now = scope.now;
  const token = generateToken();
  const id = uuidv7();
  const absoluteExpiresAt = new Date(now.getTime() + lifetimes.absoluteTtlMs);
  const expiresAt = earliest(new Date(now.getTime() + lifetimes.idleTtlMs), absoluteExpiresAt);
  const { ipHash, userAgentHash } = await scope.client.hashes();
  const row = {
    id,
    userId,
    tokenHash: await sha256Hex(token),
    aal,
    createdAt: now,
    lastSeenAt: now,
    expiresAt,
    absoluteExpiresAt,
    // Every session is issued by a check (password, second factor, reset token, passkey).
    authenticatedAt: now,
    ipHash,
    userAgentHash,
  };
  return { row, session: { token, id, aal, expiresAt: expiresAt.toISOString() } };
}

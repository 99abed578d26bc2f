/**
 * The one place that issues sessions after a password check. Whether a second factor is
 * required is read from the live factor table at that moment (never a cached flag): a user with
 * a verified factor gets a challenge and no session of any kind.
 */
import { and, count, eq } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import type { Db, Query } from "../../db/database";
import type { AppContext } from "../context";
import { generateToken, sha256Hex } from "../lib/tokens";
import { type SecurityEventInput, securityEventRow } from "../security-events";
import { type UserRow, userView } from "./schemas";
import { prepareSession } from "./sessions";

/** Number of verified MFA factors the user has right now. */
export async function verifiedFactorCount(c: AppContext, userId: string): Promise<number> {
  const { db, t } = c.var.db;
  const f = t.userMfaMethods;
  const [row] = await db
    .select({ n: count() })
    .from(f)
    .where(and(eq(f.userId, userId), eq(f.status, "verified")));
  return Number(row?.n ?? 0);
}

/**
 * Issues a session and writes it together with `events` and any `alongside` statements (built
 * on the batch's `db`, told the new session's id) in one atomic batch, so a session never
 * exists without its audit trail.
 */
export async function issueSession(
  c: AppContext,
  user: UserRow,
  aal: 1 | 2,
  events: SecurityEventInput[],
  alongside: (db: Db, sessionId: string) => Query[] = () => [],
) {
  const { t } = c.var.db;
  const { row, session } = await prepareSession(c, user.id, aal);
  const eventRows = await Promise.all(events.map((e) => securityEventRow(c, e)));
  await c.var.db.atomic((db) => [
    db.insert(t.userSessions).values(row),
    ...alongside(db, row.id),
    db.insert(t.securityEvents).values(eventRows),
  ]);
  return { status: "authenticated" as const, session, user: userView(user) };
}

/** After a correct password: a session (no verified factor) or an MFA challenge. */
export async function completePasswordSignIn(c: AppContext, user: UserRow) {
  if ((await verifiedFactorCount(c, user.id)) === 0) {
    return issueSession(c, user, 1, [
      { type: "auth.login_succeeded", userId: user.id, metadata: { aal: 1 } },
    ]);
  }
  const { t } = c.var.db;
  const token = generateToken();
  const expiresAt = new Date(c.var.now.getTime() + c.var.config.mfaChallengeTtlMs);
  const tokenHash = await sha256Hex(token);
  const event = await securityEventRow(c, { type: "auth.mfa_challenge_issued", userId: user.id });
  await c.var.db.atomic((db) => [
    db
      .insert(t.mfaChallenges)
      .values({ id: uuidv7(), userId: user.id, tokenHash, createdAt: c.var.now, expiresAt }),
    db.insert(t.securityEvents).values(event),
  ]);
  return {
    status: "mfa_required" as const,
    challenge: {
      token,
      expiresAt: expiresAt.toISOString(),
      methods: ["totp" as const, "recovery_code" as const],
    },
  };
}

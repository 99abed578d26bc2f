/**
 * MFA factors (TOTP and passkeys) and recovery codes of a user: one aggregate. A TOTP factor is
 * `pending` from enrollment until a code from the app confirms it, then `verified`; a passkey is
 * verified from the start (its credential is in stores/webauthn.ts). Recovery codes exist
 * as one set per user, replaced as a whole, each spent at most once.
 */
import {
  type AnyColumn,
  and,
  asc,
  count,
  eq,
  isNull,
  lt,
  max,
  ne,
  notExists,
  or,
  type SQL,
  sql,
} from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";
import { rowWhere } from "../tenant-data/sql";
import { lockUser } from "./users";

/** The columns of a factor that answers show. */
const factorProjection = (t: Schema) => ({
  id: t.userMfaMethods.id,
  type: t.userMfaMethods.type,
  status: t.userMfaMethods.status,
  label: t.userMfaMethods.label,
  createdAt: t.userMfaMethods.createdAt,
  lastUsedAt: t.userMfaMethods.lastUsedAt,
});

export type FactorRow = Pick<
  Schema["userMfaMethods"]["$inferSelect"],
  keyof ReturnType<typeof factorProjection>
>;

/** The sealed TOTP secret of a factor (AES-GCM, bound to the factor id), to check codes with. */
export interface SealedFactor {
  id: string;
  secretKeyId: string;
  secretCiphertext: string;
  /** The last accepted TOTP time step, when read with the secret (codes of it or before are spent). */
  lastUsedStep?: number | null;
}

/** A factor row with its secret columns as stored (null for a passkey). */
export type StoredFactor = FactorRow & {
  secretKeyId: string | null;
  secretCiphertext: string | null;
  lastUsedStep?: number | null;
};

/** The sealed TOTP secret of a factor; null for a passkey. */
export function sealedTotp(f: StoredFactor): SealedFactor | null {
  if (f.type !== "totp" || f.secretKeyId === null || f.secretCiphertext === null) return null;
  return {
    id: f.id,
    secretKeyId: f.secretKeyId,
    secretCiphertext: f.secretCiphertext,
    lastUsedStep: f.lastUsedStep ?? null,
  };
}

export function factorView(f: FactorRow) {
  return {
    id: f.id,
    type: f.type,
    status: f.status,
    label: f.label,
    createdAt: f.createdAt.toISOString(),
    lastUsedAt: f.lastUsedAt?.toISOString() ?? null,
  };
}

export type FactorInsert = Schema["userMfaMethods"]["$inferInsert"];
export type RecoveryCodeInsert = Schema["userRecoveryCodes"]["$inferInsert"];

/** Number of verified MFA factors the user has right now (read live, never cached). */
export async function countVerifiedFactors({ db, t }: Database, userId: string): Promise<number> {
  const f = t.userMfaMethods;
  const [row] = await db
    .select({ n: count() })
    .from(f)
    .where(and(eq(f.userId, userId), eq(f.status, "verified")));
  return Number(row?.n ?? 0);
}

/**
 * The user's factor `id` with its sealed secret and last accepted step, and how many verified
 * factors the user has (this one included if verified), in ONE statement; null for unknown ids
 * and other users' factors alike.
 */
export async function findOwnFactor(
  { db, t }: Database,
  userId: string,
  id: string,
): Promise<(StoredFactor & { verifiedFactors: number }) | null> {
  const f = t.userMfaMethods;
  const [row] = await db
    .select({
      ...factorProjection(t),
      secretKeyId: f.secretKeyId,
      secretCiphertext: f.secretCiphertext,
      lastUsedStep: f.lastUsedStep,
      // The user id as a parameter: `f.userId` inside would name the subquery's own row.
      verifiedFactors: verifiedFactorCount(t, sql`${userId}`),
    })
    .from(f)
    .where(and(eq(f.id, id), eq(f.userId, userId)));
  return row ?? null;
}

/**
 * The user's factor `id` (as findOwnFactor) with the user's verified TOTP factors and their
 * sealed secrets (to check a code with), in ONE round trip (a batch of two reads); null when the
 * user has no such factor.
 */
export async function findOwnFactorWithSecrets(
  database: Database,
  userId: string,
  id: string,
): Promise<{ factor: FactorRow; secrets: SealedFactor[] } | null> {
  const { t } = database;
  const f = t.userMfaMethods;
  const [factors, secrets] = await database.atomic((db) => [
    db
      .select(factorProjection(t))
      .from(f)
      .where(and(eq(f.id, id), eq(f.userId, userId))),
    verifiedFactorSecrets(db, t, userId),
  ]);
  const [factor] = factors;
  return factor ? { factor, secrets: sealedFactors(secrets) } : null;
}

/** The user's factors, pending ones included, oldest first. */
export function listFactors({ db, t }: Database, userId: string): Promise<FactorRow[]> {
  return selectFactors(db, t, userId);
}

/** The sealed secrets of the user's verified TOTP factors (read live). */
export async function listVerifiedFactorSecrets(database: Database, userId: string): Promise<SealedFactor[]> {
  return sealedFactors(await verifiedFactorSecrets(database.db, database.t, userId));
}

/**
 * The verified TOTP factors of `userId` (a value, or a subquery naming the user) with their
 * sealed secrets and last accepted steps, as a query for a batch; map with `sealedFactors`.
 */
export function verifiedFactorSecrets(db: Db, t: Schema, userId: string | SQL) {
  const f = t.userMfaMethods;
  return db
    .select({
      ...factorProjection(t),
      secretKeyId: f.secretKeyId,
      secretCiphertext: f.secretCiphertext,
      lastUsedStep: f.lastUsedStep,
    })
    .from(f)
    .where(and(eq(f.userId, userId), eq(f.status, "verified"), eq(f.type, "totp")));
}

export const sealedFactors = (rows: StoredFactor[]): SealedFactor[] =>
  rows.map(sealedTotp).filter((s): s is SealedFactor => s !== null);

/** The types of the user's verified factors (read live): what a login challenge can be answered with. */
export async function verifiedFactorTypes({ db, t }: Database, userId: string) {
  const f = t.userMfaMethods;
  const rows = await db
    .selectDistinct({ type: f.type })
    .from(f)
    .where(and(eq(f.userId, userId), eq(f.status, "verified")));
  return new Set(rows.map((r) => r.type));
}

/** "`step` is later than the factor's last accepted one", in SQL (a factor that accepted none: any step). */
function laterThanLastStep(t: Schema, step: number) {
  const f = t.userMfaMethods;
  return or(isNull(f.lastUsedStep), lt(f.lastUsedStep, step));
}

/** The same read back: `step` is spent when the factor accepted it or a later one. */
export function isStepSpent(lastUsedStep: number | null | undefined, step: number): boolean {
  return lastUsedStep != null && step <= lastUsedStep;
}

/**
 * Records `step` as the factor's last accepted TOTP time step, unless that step or a later one
 * was accepted before: the compare-and-set that makes a code usable once, even by two requests
 * at the same instant. True when this call recorded it.
 */
export async function acceptTotpStep({ db, t }: Database, factorId: string, step: number, now: Date) {
  const f = t.userMfaMethods;
  const won = await db
    .update(f)
    .set({ lastUsedStep: step, lastUsedAt: now })
    .where(and(eq(f.id, factorId), laterThanLastStep(t, step)))
    .returning({ id: f.id });
  return won.length === 1;
}

/**
 * Takes the factor's row lock for the rest of the batch (a no-op update, like lockUser), so a
 * TOTP spend in the batch cannot interleave with another spend of the factor; returns its last
 * accepted step and its status as they stand once the lock is held.
 */
export function lockFactor(db: Db, t: Schema, factorId: string) {
  const f = t.userMfaMethods;
  return db
    .update(f)
    .set({ lastUsedStep: sql`${f.lastUsedStep}` })
    .where(eq(f.id, factorId))
    .returning({ lastUsedStep: f.lastUsedStep, status: f.status });
}

/**
 * "The user has no verified factor but `factorId`" (for a batch under the user's row lock, which
 * every batch that verifies a factor takes first, so the answer holds for the rest of it).
 */
export function noOtherVerifiedFactor(t: Schema, userId: string, factorId: string): SQL {
  const f = t.userMfaMethods;
  return sql`not exists (select 1 from ${f} where ${and(eq(f.userId, userId), eq(f.status, "verified"), ne(f.id, factorId))})`;
}

/**
 * "The factor is `status` (verified, unless said otherwise) and `step` is later than its last
 * accepted step" (for a batch under lockFactor).
 */
export function stepIsUnspent(
  t: Schema,
  factorId: string,
  step: number,
  status: "verified" | "pending" = "verified",
): SQL {
  const f = t.userMfaMethods;
  return sql`exists (select 1 from ${f} where ${and(eq(f.id, factorId), eq(f.status, status), laterThanLastStep(t, step))})`;
}

/** Records `step` as accepted (for a batch) when `when` holds, in the same statement. */
export function acceptTotpStepWhen(
  db: Db,
  t: Schema,
  factorId: string,
  step: number,
  now: Date,
  when: SQL,
): Query {
  const f = t.userMfaMethods;
  return db
    .update(f)
    .set({ lastUsedStep: step, lastUsedAt: now })
    .where(and(eq(f.id, factorId), laterThanLastStep(t, step), when));
}

/**
 * Runs the statements `writes` builds in ONE batch that also spends TOTP time step `step` of
 * the verified factor `factorId`: the factor's row lock first, then every write guarded by
 * `unspent` (the step is still later than the factor's last accepted one, read under the lock),
 * then the step recorded. True when this batch spent the step; false when it was taken
 * meanwhile (a replayed code) or the factor is gone, and then nothing was written.
 */
export async function spendTotpStepWith(
  database: Database,
  match: { factorId: string; step: number },
  now: Date,
  writes: (db: Db, unspent: SQL) => Query[],
): Promise<boolean> {
  const { t } = database;
  const unspent = stepIsUnspent(t, match.factorId, match.step);
  const [locked] = await database.atomic((db) => [
    lockFactor(db, t, match.factorId),
    ...writes(db, unspent),
    acceptTotpStepWhen(db, t, match.factorId, match.step, now, unspent),
  ]);
  const [factor] = locked;
  return factor !== undefined && !isStepSpent(factor.lastUsedStep, match.step);
}

/**
 * replaceRecoveryCodes guarded by `when` (each statement writes only while it holds), for a
 * batch whose writes depend on a check made in the batch (spendTotpStepWith).
 */
export function replaceRecoveryCodesWhen(
  db: Db,
  t: Schema,
  userId: string,
  rows: RecoveryCodeInsert[],
  when: SQL,
): Query[] {
  const r = t.userRecoveryCodes;
  const u = t.users;
  return [
    db.delete(r).where(and(eq(r.userId, userId), when)),
    ...rows.map((row) => db.insert(r).select(rowWhere(r, row, u, and(eq(u.id, userId), when)))),
  ];
}

/**
 * Confirms the user's pending TOTP factor with the first code's time step `step`, in ONE batch
 * with what the confirmation unlocks:
 * 1. the user's row lock: a concurrent password login either committed its session before (the
 *    revocation in `writes` sees it) or inserts after and sees this factor (no session);
 * 2. the factor's row lock, which answers how the factor stands under it;
 * 3. `writes`, each guarded by `pendingUnspent` (the factor is still pending and `step` later
 *    than its last accepted one), which holds until the batch ends under the locks;
 * 4. the confirm itself, which also records the step: last, so the guards see the pending factor.
 * Of two confirms racing (one code sent twice, or two codes), or a confirm racing the factor's
 * removal, one at most writes anything. `outcome`: "confirmed"; "replayed" when the step (or a
 * later one) was accepted meanwhile; "not_pending" when the factor is gone or confirmed already.
 * `written`: the results of `writes`' statements, in order.
 */
export async function confirmPendingTotp(
  database: Database,
  { userId, factorId, step, now }: { userId: string; factorId: string; step: number; now: Date },
  writes: (db: Db, pendingUnspent: SQL) => Query[],
): Promise<{ outcome: "confirmed" | "replayed" | "not_pending"; written: unknown[] }> {
  const { t } = database;
  const f = t.userMfaMethods;
  const results = await database.atomic((db) => [
    lockUser(db, t, userId),
    lockFactor(db, t, factorId),
    ...writes(db, stepIsUnspent(t, factorId, step, "pending")),
    db
      .update(f)
      .set({ status: "verified", verifiedAt: now, lastUsedStep: step, lastUsedAt: now })
      .where(and(eq(f.id, factorId), eq(f.status, "pending"), laterThanLastStep(t, step))),
  ]);
  const written = results.slice(2, -1);
  const [factor] = results[1] as { lastUsedStep: number | null; status: string }[];
  if (factor?.status !== "pending") return { outcome: "not_pending", written };
  return { outcome: isStepSpent(factor.lastUsedStep, step) ? "replayed" : "confirmed", written };
}

/** A new pending factor, replacing the user's older pending one (for a batch). */
export function replacePendingFactor(
  db: Db,
  t: Schema,
  row: FactorInsert & { status: "pending" },
): [Query, Query] {
  const f = t.userMfaMethods;
  return [
    db.delete(f).where(and(eq(f.userId, row.userId), eq(f.status, "pending"))),
    db.insert(f).values(row),
  ];
}

/**
 * Removes the user's factor, and with the last verified one the recovery codes (for a batch).
 * `when`, if given, guards both statements (a TOTP step spent in the same batch). The codes go
 * first: `when` may read the very factor this deletes, and "another verified factor" leaves
 * this one out, so the order changes nothing else.
 */
export function deleteFactor(
  db: Db,
  t: Schema,
  userId: string,
  factorId: string,
  when?: SQL,
): [Query, Query] {
  const f = t.userMfaMethods;
  const r = t.userRecoveryCodes;
  const otherVerified = db
    .select({ id: f.id })
    .from(f)
    .where(and(eq(f.userId, userId), eq(f.status, "verified"), ne(f.id, factorId)));
  return [
    db.delete(r).where(and(eq(r.userId, userId), notExists(otherVerified), when)),
    db.delete(f).where(and(eq(f.id, factorId), eq(f.userId, userId), when)),
  ];
}

/** Replaces the user's whole set of recovery codes: every older code stops working (for a batch). */
export function replaceRecoveryCodes(
  db: Db,
  t: Schema,
  userId: string,
  rows: RecoveryCodeInsert[],
): [Query, Query] {
  const r = t.userRecoveryCodes;
  return [db.delete(r).where(eq(r.userId, userId)), db.insert(r).values(rows)];
}

/** Spends the user's unused recovery code with this hash; false when there is none (unknown or spent). */
export async function spendRecoveryCode({ db, t }: Database, userId: string, codeHash: string, now: Date) {
  const r = t.userRecoveryCodes;
  const spent = await db
    .update(r)
    .set({ usedAt: now })
    .where(and(eq(r.userId, userId), eq(r.codeHash, codeHash), isNull(r.usedAt)))
    .returning({ id: r.id });
  return spent.length === 1;
}

/** How many of the user's recovery codes are unused, and when the set was made (null: no set). */
export async function recoveryCodeStatus({ db, t }: Database, userId: string) {
  return recoveryCodeStatusOf(await selectRecoveryCodeStatus(db, t, userId));
}

/**
 * The set's creation time and its unused codes, as ONE query (for a batch too); map the rows
 * with `recoveryCodeStatusOf`.
 */
export function selectRecoveryCodeStatus(db: Db, t: Schema, userId: string) {
  const r = t.userRecoveryCodes;
  return db
    .select({
      createdAt: max(r.createdAt),
      left: sql<number>`coalesce(sum(case when ${r.usedAt} is null then 1 else 0 end), 0)`,
    })
    .from(r)
    .where(eq(r.userId, userId));
}

/** The answer of `selectRecoveryCodeStatus`: how many codes are left and when the set was made. */
export function recoveryCodeStatusOf(rows: { createdAt: unknown; left: unknown }[]) {
  const [set] = rows;
  // max() comes back raw (a timestamp string or epoch milliseconds, per dialect), not mapped to a Date.
  const createdAt = set?.createdAt ? new Date(set.createdAt as string | number | Date) : null;
  return { remaining: Number(set?.left ?? 0), createdAt };
}

/** The verified factors of `userId`, counted (a scalar subquery for a read of the user row). */
export function verifiedFactorCount(t: Schema, userId: SQL | AnyColumn) {
  const f = t.userMfaMethods;
  return sql<number>`(select count(*) from ${f} where ${and(eq(f.userId, userId), eq(f.status, "verified"))})`.mapWith(
    Number,
  );
}

/** The user's factors, pending ones included, oldest first, as a query for a batch. */
export function selectFactors(db: Db, t: Schema, userId: string) {
  const f = t.userMfaMethods;
  return db.select(factorProjection(t)).from(f).where(eq(f.userId, userId)).orderBy(asc(f.id));
}

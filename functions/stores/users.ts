/** Users: accounts and their password hashes. */
import { aliasedTable, and, eq, exists, isNull, notExists, type SQL, sql } from "drizzle-orm";
import type { Database, Db, Query, Schema } from "../../db/database";
import { isUniqueViolation } from "../../db/unique-violation";

/** A live account: not a deletion tombstone (whose email is `deleted:<id>`, password hash empty). */
export const isLiveUser = (t: Schema) => isNull(t.users.deletedAt);

/** The columns of a user that answers show (never the password hash). */
export const userProjection = (t: Schema) => ({
  id: t.users.id,
  email: t.users.email,
  displayName: t.users.displayName,
  emailVerifiedAt: t.users.emailVerifiedAt,
  createdAt: t.users.createdAt,
});

export interface UserRow {
  id: string;
  email: string;
  displayName: string | null;
  emailVerifiedAt: Date | null;
  createdAt: Date;
}

export function userView(u: UserRow) {
  return {
    id: u.id,
    email: u.email,
    emailVerified: u.emailVerifiedAt !== null,
    displayName: u.displayName,
    createdAt: u.createdAt.toISOString(),
  };
}

/**
 * Insert of a user unless the email is taken (for a batch; it returns the user, or no row when
 * the address is taken: the unique index decides, so races are safe). Later statements of the
 * batch that belong to the new account must be conditional on it (`INSERT … SELECT … WHERE
 * EXISTS` the user), since a batch cannot branch.
 */
export function insertUser(
  db: Db,
  t: Schema,
  row: { id: string; email: string; passwordHash: string; displayName: string | null; now: Date },
) {
  return db
    .insert(t.users)
    .values({
      id: row.id,
      email: row.email,
      passwordHash: row.passwordHash,
      displayName: row.displayName,
      createdAt: row.now,
      updatedAt: row.now,
    })
    .onConflictDoNothing({ target: t.users.email })
    .returning(userProjection(t));
}

/** Marks the address proven (for a batch); keeps the first proof's time. */
export function markEmailVerified(db: Db, t: Schema, id: string, now: Date): Query {
  return db
    .update(t.users)
    .set({ emailVerifiedAt: now })
    .where(and(eq(t.users.id, id), isNull(t.users.emailVerifiedAt)));
}

/** A second-factor type a login challenge can be answered with. */
export type FactorType = "totp" | "webauthn";

/**
 * What a password sign-in needs, in ONE statement: the user with this (normalised) email, its
 * password hash, and the types of its verified factors (scalar subqueries), or null. The factor
 * types decide between a session and a challenge; the session insert re-checks "no verified
 * factor" itself (stores/sessions.ts insertSessionUnlessFactor), so a factor confirmed after
 * this read still gates the session.
 */
export async function findUserForSignIn(
  { db, t }: Database,
  email: string,
): Promise<(UserRow & { passwordHash: string; factorTypes: Set<FactorType> }) | null> {
  const f = t.userMfaMethods;
  const has = (type: FactorType) =>
    sql<number>`case when exists (select 1 from ${f} where ${and(eq(f.userId, t.users.id), eq(f.status, "verified"), eq(f.type, type))}) then 1 else 0 end`;
  const [row] = await db
    .select({
      ...userProjection(t),
      passwordHash: t.users.passwordHash,
      totp: has("totp"),
      webauthn: has("webauthn"),
    })
    .from(t.users)
    .where(and(eq(t.users.email, email), isLiveUser(t)))
    .limit(1);
  if (!row) return null;
  const { totp, webauthn, ...user } = row;
  const factorTypes = new Set<FactorType>();
  if (Number(totp)) factorTypes.add("totp");
  if (Number(webauthn)) factorTypes.add("webauthn");
  return { ...user, factorTypes };
}

/** The user by id with its password hash, or null. */
export async function findUserWithPasswordById(
  { db, t }: Database,
  id: string,
): Promise<(UserRow & { passwordHash: string }) | null> {
  const [user] = await db
    .select({ ...userProjection(t), passwordHash: t.users.passwordHash })
    .from(t.users)
    .where(and(eq(t.users.id, id), isLiveUser(t)))
    .limit(1);
  return user ?? null;
}

/**
 * The live user by id with its password hash (for a step-up) and whether another live account
 * holds `email`, in ONE statement (a scalar subquery), or null.
 */
export async function findUserForEmailChange(
  { db, t }: Database,
  id: string,
  email: string,
): Promise<(UserRow & { passwordHash: string; emailTaken: boolean }) | null> {
  const other = aliasedTable(t.users, "other_user");
  const [row] = await db
    .select({
      ...userProjection(t),
      passwordHash: t.users.passwordHash,
      taken: sql<number>`case when ${exists(
        db
          .select({ one: sql`1` })
          .from(other)
          .where(and(eq(other.email, email), isNull(other.deletedAt))),
      )} then 1 else 0 end`,
    })
    .from(t.users)
    .where(and(eq(t.users.id, id), isLiveUser(t)))
    .limit(1);
  if (!row) return null;
  const { taken, ...user } = row;
  return { ...user, emailTaken: Number(taken) === 1 };
}

/** The id of the user with this (normalised) email, or null. */
export async function findUserIdByEmail({ db, t }: Database, email: string): Promise<string | null> {
  const [user] = await db
    .select({ id: t.users.id })
    .from(t.users)
    .where(and(eq(t.users.email, email), isLiveUser(t)))
    .limit(1);
  return user?.id ?? null;
}

/** The user by id, or null. */
export async function findUserById({ db, t }: Database, id: string): Promise<UserRow | null> {
  const [user] = await selectUser(db, t, id);
  return user ?? null;
}

/** The live user `id` (a value, or a subquery naming the user), as a query for a batch. */
export function selectUser(db: Db, t: Schema, id: string | SQL) {
  return db
    .select(userProjection(t))
    .from(t.users)
    .where(and(eq(t.users.id, id), isLiveUser(t)))
    .limit(1);
}

/** Replaces the password hash (a rehash on login, not a password change). */
export async function updatePasswordHash({ db, t }: Database, id: string, passwordHash: string, now: Date) {
  await db.update(t.users).set({ passwordHash, updatedAt: now }).where(eq(t.users.id, id));
}

/** Sets a new password hash (for a batch: a reset or a change writes it with what it revokes). */
export function setPasswordHash(db: Db, t: Schema, id: string, passwordHash: string, now: Date): Query {
  return db.update(t.users).set({ passwordHash, updatedAt: now }).where(eq(t.users.id, id));
}

/**
 * Takes the user's row lock for the rest of the batch (Postgres: a row lock held to commit;
 * SQLite: the write lock). Batches that must not interleave for one user start with it: issuing
 * a password session (which depends on "no verified factor") and confirming a first factor
 * (which revokes the other sessions). Under READ COMMITTED each later statement of the batch
 * then sees what the other batch committed.
 */
export function lockUser(db: Db, t: Schema, id: string): Query {
  return db
    .update(t.users)
    .set({ updatedAt: sql`${t.users.updatedAt}` })
    .where(eq(t.users.id, id));
}

/**
 * Moves the user to `email`, verified, unless another account holds that address (decided in
 * the statement; the unique index settles a race). False when it is taken.
 */
export async function changeEmail(
  { db, t }: Database,
  id: string,
  email: string,
  now: Date,
): Promise<boolean> {
  const u = t.users;
  try {
    const changed = await db
      .update(u)
      .set({ email, emailVerifiedAt: now, updatedAt: now })
      .where(and(eq(u.id, id), notExists(db.select({ id: u.id }).from(u).where(eq(u.email, email)))))
      .returning({ id: u.id });
    return changed.length === 1;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

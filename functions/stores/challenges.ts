/** MFA challenges: the single-use, short-lived second step of a password login. */
import type { Db, Query, Schema } from "../../db/database";

export type ChallengeInsert = Schema["mfaChallenges"]["$inferInsert"];

/** Insert of a new challenge row (for a batch). */
export function insertChallenge(db: Db, t: Schema, row: ChallengeInsert): Query {
  return db.insert(t.mfaChallenges).values(row);
}

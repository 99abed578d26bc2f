/** Security events: the append-only audit trail of an account and of a tenant. */
import type { Db, Query, Schema } from "../../db/database";

export type SecurityEventInsert = Schema["securityEvents"]["$inferInsert"];

/** Inserts event rows (alone, or in a batch with the change they record). */
export function insertSecurityEvents(db: Db, t: Schema, rows: SecurityEventInsert[]): Query {
  return db.insert(t.securityEvents).values(rows);
}

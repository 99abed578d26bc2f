/**
 * True when `err` (or a cause of it) is a unique-constraint violation: SQLSTATE 23505 on
 * Postgres, SQLITE_CONSTRAINT_UNIQUE / "UNIQUE constraint failed" on libSQL and D1. Drizzle
 * wraps driver errors, so the causes are walked. (Its own module: the Worker imports it
 * without db/dialect.ts, whose drivers a single-database build leaves out.)
 */
export function isUniqueViolation(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE") return true;
    if (typeof message === "string" && /UNIQUE constraint failed/.test(message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

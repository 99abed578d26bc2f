/**
 * Direct database helpers for hostile-input tests: minting sessions without the API (so a fuzz
 * run can log out as often as it likes), and auditing what the database holds afterwards.
 */
import { is, Table } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import { generateToken, sha256Hex } from "../../functions/lib/tokens";
import type { Harness } from "./harness";

/** Inserts a live aal-2 session for `userId`, stored the way the app stores them; returns its token. */
export async function mintSession(h: Harness, userId: string): Promise<string> {
  const token = generateToken();
  const now = new Date(h.clock.now());
  const { db, t } = h.open();
  await db.insert(t.userSessions).values({
    id: uuidv7(),
    userId,
    tokenHash: await sha256Hex(token),
    aal: 2,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + h.config.session.idleTtlMs),
    absoluteExpiresAt: new Date(now.getTime() + h.config.session.absoluteTtlMs),
    ipHash: null,
    userAgentHash: null,
  });
  return token;
}

/** Every row of every table of the schema, as JSON text per table. */
export async function dumpTables(h: Harness): Promise<Map<string, string>> {
  const { db, t } = h.open();
  const dump = new Map<string, string>();
  for (const [name, table] of Object.entries(t)) {
    if (!is(table, Table)) continue;
    // biome-ignore lint/suspicious/noExplicitAny: every table of the schema, whatever its columns.
    const rows = await db.select().from(table as any);
    dump.set(name, JSON.stringify(rows));
  }
  return dump;
}

/** The `needles` found in the dump, with the table they were found in. */
export function findInDump(
  dump: Map<string, string>,
  needles: Iterable<string>,
): { table: string; needle: string }[] {
  const found: { table: string; needle: string }[] = [];
  for (const needle of needles) {
    // Compare as stored in JSON text: quotes and backslashes in the secret are escaped there.
    const encoded = JSON.stringify(needle).slice(1, -1);
    for (const [table, text] of dump) if (text.includes(encoded)) found.push({ table, needle });
  }
  return found;
}

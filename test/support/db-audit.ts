/**
 * Direct database helpers for hostile-input tests: minting sessions without the API (so a fuzz
 * run can log out as often as it likes), and auditing what the database holds afterwards.
 */
import { count, getTableColumns, is, sql, Table } from "drizzle-orm";
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

/**
 * SQLite only (empty elsewhere; Postgres cannot store it at all): "table.column: n" for every
 * text column holding U+0000 in n rows. The driver cuts such text off at the NUL when reading it,
 * so the dump cannot show it; the stored bytes are searched instead.
 */
export async function storedNuls(h: Harness): Promise<string[]> {
  const { db, t, dialect } = h.open();
  if (dialect !== "sqlite") return [];
  const found: string[] = [];
  for (const [name, table] of Object.entries(t)) {
    if (!is(table, Table)) continue;
    for (const [key, column] of Object.entries(getTableColumns(table))) {
      if (column.getSQLType() !== "text") continue;
      const [row] = await db
        .select({ n: count() })
        .from(table as typeof t.users) // any table: only count() is selected
        .where(sql`instr(cast(${column} as blob), x'00') > 0`);
      if (row?.n) found.push(`${name}.${key}: ${row.n}`);
    }
  }
  return found;
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/=+$/, "");
const base64url = (text: string) => text.replaceAll("+", "-").replaceAll("/", "_");

/**
 * The base64 characters that depend on `bytes` alone, for each of the three byte alignments the
 * secret can have inside a longer encoded value (k bytes before it): the characters mixing in a
 * neighbour's bits are cut off, so whatever surrounds the secret, one of these occurs.
 */
function base64Fragments(bytes: Uint8Array): string[] {
  const fragments: string[] = [];
  for (let k = 0; k < 3; k++) {
    const padded = new Uint8Array(k + bytes.length);
    padded.set(bytes, k);
    const start = Math.ceil((8 * k) / 6);
    const end = Math.floor((8 * (k + bytes.length)) / 6);
    fragments.push(base64(padded).slice(start, end));
  }
  return fragments;
}

/** Shorter encoded fragments than this would match by chance; the raw form is still searched. */
const MIN_ENCODED = 12;

/**
 * How `secret` could sit in a dump: as is (JSON-escaped, as in the dump) and its UTF-8 bytes as
 * hex, both matched in any letter case (a secret stored lower-cased is still in clear), and its
 * UTF-8 bytes as base64 and base64url.
 */
export function storedForms(secret: string): { form: string; text: string; anyCase: boolean }[] {
  const bytes = new TextEncoder().encode(secret);
  const raw = JSON.stringify(secret).slice(1, -1).toLowerCase();
  const forms = [{ form: "raw", text: raw, anyCase: true }];
  if (bytes.length * 2 >= MIN_ENCODED) forms.push({ form: "hex", text: hex(bytes), anyCase: true });
  for (const fragment of base64Fragments(bytes)) {
    if (fragment.length < MIN_ENCODED) continue;
    forms.push({ form: "base64", text: fragment, anyCase: false });
    forms.push({ form: "base64url", text: base64url(fragment), anyCase: false });
  }
  return forms;
}

/** Length of the window the dump is indexed by (forms at least this long are looked up, not scanned for). */
const WINDOW = 12;

/**
 * The `needles` found in the dump, with the table they were found in and the form they had
 * there (raw or hex in any case, base64 or base64url of their UTF-8 bytes). One pass over each table's text
 * whatever the number of needles (a fuzz run collects thousands): every form is looked up by its
 * first WINDOW characters, then compared in full.
 */
export function findInDump(
  dump: Map<string, string>,
  needles: Iterable<string>,
): { table: string; needle: string; form: string }[] {
  type Form = { needle: string; form: string; text: string; anyCase?: boolean };
  const exact = new Map<string, Form[]>();
  const anyCase = new Map<string, Form[]>();
  const short: Form[] = [];
  for (const needle of needles) {
    for (const { form, text, anyCase: folded } of storedForms(needle)) {
      if (text.length < WINDOW) {
        short.push({ needle, form, text, anyCase: folded });
        continue;
      }
      const index = folded ? anyCase : exact;
      const key = text.slice(0, WINDOW);
      index.set(key, [...(index.get(key) ?? []), { needle, form, text }]);
    }
  }
  const found = new Map<string, { table: string; needle: string; form: string }>();
  const hit = (table: string, f: Form) => {
    const key = `${table}\u0000${f.needle}`;
    if (!found.has(key)) found.set(key, { table, needle: f.needle, form: f.form });
  };
  for (const [table, text] of dump) {
    const lowered = text.toLowerCase();
    for (const [index, haystack] of [
      [exact, text],
      [anyCase, lowered],
    ] as const) {
      if (index.size === 0) continue;
      for (let i = 0; i + WINDOW <= haystack.length; i++) {
        for (const f of index.get(haystack.slice(i, i + WINDOW)) ?? []) {
          if (haystack.startsWith(f.text, i)) hit(table, f);
        }
      }
    }
    for (const f of short) if ((f.anyCase ? lowered : text).includes(f.text)) hit(table, f);
  }
  return [...found.values()];
}

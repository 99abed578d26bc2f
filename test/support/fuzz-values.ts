/**
 * fast-check arbitraries for values shaped by a JSON Schema fragment of the OpenAPI document:
 * plausible ones (format, pattern, bounds), ones just outside the bounds, wrong-typed ones, and
 * in `strict` mode only ones meant to pass validation. Secret fields sometimes get a marked
 * secret, so a test can later search the database for it. Strings and keys now and then carry a
 * character no database stores as sent (U+0000, an unpaired high or low surrogate) or another
 * control character, at their start, middle or end; ids that exist also come in upper case.
 */
import fc from "fast-check";

// biome-ignore lint/suspicious/noExplicitAny: OpenAPI JSON Schema fragments are open-ended.
export type Schema = Record<string, any>;

/** Body fields holding secrets: generated values carrying SECRET_MARK are searched for in the database. */
export const SECRET_FIELDS = new Set([
  "password",
  "currentPassword",
  "newPassword",
  "token",
  "challengeToken",
  "code",
  "recoveryCode",
]);
export const SECRET_MARK = "zqSecret";

/** Header-safe text: Latin-1 without control characters (what a Headers object accepts). */
export const headerText = (maxLength = 40) =>
  fc.string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .filter((c) => c !== 0x7f && (c < 0x80 || c > 0x9f))
      .map((c) => String.fromCharCode(c)),
    maxLength,
  });

/** C0 and C1 control characters other than U+0000, and DEL. */
const CONTROLS = [
  ...Array.from({ length: 0x1f }, (_, i) => i + 1),
  0x7f,
  ...Array.from({ length: 0x20 }, (_, i) => i + 0x80),
].map((c) => String.fromCharCode(c));

/**
 * One character a string should not carry: U+0000 (Postgres refuses it in `text`), a lone high
 * or low surrogate (no UTF-8 form: drivers replace or refuse it), or another control character.
 */
export const hostileChar = fc.oneof(
  { weight: 3, arbitrary: fc.constant("\u0000") },
  { weight: 2, arbitrary: fc.constantFrom(...CONTROLS) },
  { weight: 2, arbitrary: fc.integer({ min: 0xd800, max: 0xdbff }).map((c) => String.fromCharCode(c)) },
  { weight: 2, arbitrary: fc.integer({ min: 0xdc00, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
);

export type Where = "start" | "middle" | "end";
export const insertionPoint = fc.constantFrom<Where>("start", "middle", "end");

/** `text` with `char` put at its start, middle (never inside a surrogate pair) or end. */
export function insertAt(text: string, char: string, at: Where): string {
  let i = at === "start" ? 0 : at === "end" ? text.length : Math.floor(text.length / 2);
  if (/[\udc00-\udfff]/.test(text[i] ?? "") && /[\ud800-\udbff]/.test(text[i - 1] ?? "")) i += 1;
  return text.slice(0, i) + char + text.slice(i);
}

/** Strings of `text` with a hostile character at the start, middle or end. */
export const tainted = (text: fc.Arbitrary<string>) =>
  fc.tuple(text, hostileChar, insertionPoint).map(([t, c, at]) => insertAt(t, c, at));

/** JSON strings (values and keys) are printable ASCII, now and then with a hostile character. */
const jsonUnit = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: hostileChar },
);
export const anyJson = fc.jsonValue({ maxDepth: 3, stringUnit: jsonUnit });
export const anyText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  tainted(fc.string({ maxLength: 20 })),
);

/** A secret the database must never hold in clear: marked, and unique per generated value. */
export const markedSecret = fc
  .tuple(fc.stringMatching(/^[0-9a-f]{10}$/), fc.string({ maxLength: 12 }))
  .map(([id, tail]) => `${SECRET_MARK}${id}${tail}`);

/** Values that exist in the database (ids, emails), so generated requests reach past the lookups. */
export interface Known {
  ids: string[];
  emails: string[];
}

/** An id in upper case, or in mixed case (every other letter raised). */
export function upperCased(id: string, mixed = false): string {
  if (!mixed) return id.toUpperCase();
  let n = 0;
  return id.replace(/[a-f]/g, (c) => (n++ % 2 ? c.toUpperCase() : c));
}

/** Ids that exist, as the database has them (lower case) or in upper or mixed case. */
export function knownIds(known: Known): fc.Arbitrary<string>[] {
  if (!known.ids.length) return [];
  const id = fc.constantFrom(...known.ids);
  return [id, fc.tuple(id, fc.boolean()).map(([value, mixed]) => upperCased(value, mixed))];
}

/** Addresses the app's email rule accepts (fc.emailAddress is RFC-wide, mostly refused). */
const simpleEmail = fc
  .tuple(fc.stringMatching(/^[a-z0-9][a-z0-9._+-]{0,15}$/), fc.stringMatching(/^[a-z0-9]{1,10}$/))
  .map(([local, domain]) => `${local}@${domain}.test`);

/** Fields that hold an email address (the document shows them as plain strings). */
const EMAIL_FIELDS = new Set(["email", "to"]);

/**
 * Strings for a schema: shaped like it asks (format, pattern, bounds) or, unless `strict`, now and
 * then junk. `strict` values are meant to pass validation, so a request can get past it.
 */
function stringFor(s: Schema, known: Known, field: string, strict: boolean): fc.Arbitrary<string> {
  const shaped: fc.Arbitrary<string>[] = [];
  const day = fc.date({ noInvalidDate: true, min: new Date("1899-12-31"), max: new Date("2300-01-01") });
  // Within the last 6 days: what `occurredAt` accepts.
  const recent = fc.integer({ min: -6 * 86_400_000, max: 0 }).map((d) => new Date(Date.now() + d));
  const dates = strict ? recent : fc.oneof(day, recent);
  if (s.format === "uuid") shaped.push(fc.uuid(), ...knownIds(known));
  if (s.format === "email" || EMAIL_FIELDS.has(field)) {
    shaped.push(simpleEmail, ...(known.emails.length ? [fc.constantFrom(...known.emails)] : []));
    if (!strict) shaped.push(fc.emailAddress(), fc.constant(" Mixed.Case@Example.TEST "));
  }
  if (s.format === "date") shaped.push(dates.map((d) => d.toISOString().slice(0, 10)));
  if (s.format === "date-time") shaped.push(dates.map((d) => d.toISOString()));
  if (s.pattern) shaped.push(fc.stringMatching(new RegExp(s.pattern)));
  if (!shaped.length) shaped.push(fc.string({ minLength: s.minLength ?? 1, maxLength: s.maxLength ?? 40 }));
  if (strict) return fc.oneof(...shaped);
  const len = { minLength: 0, maxLength: Math.min((s.maxLength ?? 40) + 2, 300) };
  const junk: fc.Arbitrary<string>[] = [fc.string(len), anyText, fc.constantFrom("2024-02-30", "25:00")];
  if (s.maxLength) junk.push(fc.constant("a".repeat(s.maxLength + 1)));
  return fc.oneof(
    { weight: 4, arbitrary: fc.oneof(...shaped) },
    // Well-shaped but for one hostile character: what gets past every other check.
    { weight: 1, arbitrary: tainted(fc.oneof(...shaped)) },
    { weight: 1, arbitrary: fc.oneof(...junk) },
  );
}

function numberFor(s: Schema, strict: boolean): fc.Arbitrary<number> {
  const min = s.minimum ?? -1_000_000;
  const max = s.maximum ?? 1_000_000;
  if (strict) return fc.integer({ min, max });
  return fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min, max }) },
    { weight: 1, arbitrary: fc.constantFrom(min - 1, max + 1, 0, -1, 2 ** 53, -(2 ** 53), 1e308, 0.5) },
    { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  );
}

/** Values for a schema: plausible (valid or just outside its bounds), unless `strict` sometimes any JSON. */
export function valueFor(
  s: Schema | undefined,
  known: Known,
  field = "",
  strict = false,
): fc.Arbitrary<unknown> {
  if (!s) return anyJson;
  const plausible = (): fc.Arbitrary<unknown> => {
    if (s.enum) return fc.constantFrom(...(s.enum as unknown[]));
    const alternatives = s.anyOf ?? s.oneOf;
    if (alternatives)
      return fc.oneof(...(alternatives as Schema[]).map((x) => valueFor(x, known, field, strict)));
    const type = Array.isArray(s.type) ? s.type : [s.type];
    const arbs = type.map((t: string): fc.Arbitrary<unknown> => {
      if (t === "string") return stringFor(s, known, field, strict);
      if (t === "integer" || t === "number") return numberFor(s, strict);
      if (t === "boolean") return fc.boolean();
      if (t === "null") return fc.constant(null);
      if (t === "array") return fc.array(valueFor(s.items, known, "", strict), { maxLength: 4 });
      if (t === "object") return objectFor(s, known, strict);
      return anyJson;
    });
    return fc.oneof(...arbs);
  };
  const weighted = [{ weight: 8, arbitrary: plausible() }];
  if (!strict) weighted.push({ weight: 1, arbitrary: anyJson });
  // Marked secrets satisfy a secret field unless it has a shape of its own (a 6-digit code).
  if (SECRET_FIELDS.has(field) && !(strict && s.pattern))
    weighted.push({ weight: 3, arbitrary: markedSecret });
  return fc.oneof(...weighted);
}

/**
 * The schema's fields that take free text (a string without format, pattern or enum, not a
 * secret or an address): what reaches a `text` column as sent.
 */
export function freeTextFields(s: Schema | null): string[] {
  return Object.entries((s?.properties ?? {}) as Record<string, Schema>)
    .filter(([k, v]) => !SECRET_FIELDS.has(k) && !EMAIL_FIELDS.has(k) && v.type === "string")
    .filter(([, v]) => !v.format && !v.pattern && !v.enum)
    .map(([k]) => k);
}

/**
 * Objects of the schema's fields (usually with the required ones, and those in `alsoRequired`);
 * unless `strict`, odd extra fields.
 */
export function objectFor(
  s: Schema,
  known: Known,
  strict = false,
  alsoRequired: string[] = [],
): fc.Arbitrary<Record<string, unknown>> {
  const props = (s.properties ?? {}) as Record<string, Schema>;
  const fields = Object.fromEntries(
    Object.entries(props).map(([k, v]) => [k, valueFor(v, known, k, strict)]),
  );
  const required = [...((s.required ?? []) as string[]), ...alsoRequired].filter((k) => k in fields);
  if (strict) return fc.record(fields, { requiredKeys: required });
  return fc
    .tuple(
      fc.oneof(
        { weight: 3, arbitrary: fc.record(fields, { requiredKeys: required }) },
        { weight: 1, arbitrary: fc.record(fields, { requiredKeys: [] }) },
      ),
      fc.option(
        fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), tainted(fc.string({ maxLength: 6 }))), anyJson, {
          maxKeys: 2,
        }),
        { freq: 4 },
      ),
    )
    .map(([fields, extra]) => ({ ...(extra ?? {}), ...fields }));
}

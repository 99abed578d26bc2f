/**
 * fast-check arbitraries for hostile HTTP requests, derived from the app's own OpenAPI document:
 * every operation it lists, with bodies that are mostly near-valid (the schema's fields with
 * plausible, boundary and wrong-typed values, which is where handlers break) and otherwise any
 * JSON, non-JSON text, invalid UTF-8, truncated or oversized payloads; junk Content-Type,
 * Authorization and X-Request-Id headers; random query strings; path parameters that are random
 * strings, random UUIDs or ids that exist (also in upper case). A share of requests are
 * near-valid ones with a single flaw: one string (path parameter, query value, body value or
 * key) carrying U+0000, an unpaired surrogate or another control character, or every id in
 * upper case, so the flaw is the only thing standing between the request and the database.
 */
import fc from "fast-check";
import {
  anyJson,
  anyText,
  freeTextFields,
  headerText,
  hostileChar,
  insertAt,
  insertionPoint,
  type Known,
  knownIds,
  markedSecret,
  objectFor,
  type Schema,
  tainted,
  valueFor,
  type Where,
} from "./fuzz-values";

export { type Known, SECRET_FIELDS, SECRET_MARK } from "./fuzz-values";

export interface Operation {
  method: string;
  /** OpenAPI path template, e.g. `/v1/mfa/totp/{factorId}/verify`. */
  path: string;
  pathParams: string[];
  query: { name: string; schema: Schema; required: boolean }[];
  body: Schema | null;
  /** Body fields that take free text (see freeTextFields). */
  freeText: string[];
  /** Declares bearer security (then the runs with a valid session matter). */
  secured: boolean;
}

/**
 * The seed of a fuzz run: FUZZ_SEED when set (to replay a failure), else a fresh one each run,
 * so runs keep exploring. Printed either way, with the command that replays it; fast-check's
 * failure report (fc.assert with `{ seed }`) repeats it with the failing path.
 */
export function fuzzSeed(file: string): number {
  const fromEnv = process.env.FUZZ_SEED;
  const seed = fromEnv ? Number(fromEnv) : crypto.getRandomValues(new Uint32Array(1))[0]! >>> 1;
  if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, not ${fromEnv}`);
  console.log(`fuzz seed ${seed}; replay: FUZZ_SEED=${seed} npx vitest run --project node ${file}`);
  return seed;
}

/** Lists the operations of an OpenAPI 3.1 document, `$ref`s resolved. */
export function operationsOf(doc: Schema): Operation[] {
  const resolve = (s: Schema | undefined): Schema | undefined => {
    if (!s?.$ref) return s;
    return resolve(doc.components?.schemas?.[String(s.$ref).replace("#/components/schemas/", "")]);
  };
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Schema>>)) {
    for (const [method, op] of Object.entries(item)) {
      const params = (op.parameters ?? []) as {
        in: string;
        name: string;
        schema: Schema;
        required?: boolean;
      }[];
      const of = (where: string) =>
        params
          .filter((p) => p.in === where)
          .map((p) => ({ name: p.name, schema: p.schema, required: p.required === true }));
      const body = resolve(op.requestBody?.content?.["application/json"]?.schema) ?? null;
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
        query: of("query"),
        body,
        freeText: freeTextFields(body),
        secured: Array.isArray(op.security) && op.security.length > 0,
      });
    }
  }
  return ops;
}

/** What the runner turns into an Authorization header (a fresh valid session is minted for "session"). */
export type AuthChoice = { kind: "session" } | { kind: "none" } | { kind: "raw"; value: string };

export interface FuzzRequest {
  method: string;
  /** Path and query string. */
  url: string;
  auth: AuthChoice;
  headers: Record<string, string>;
  body: string | Uint8Array | null;
}

const CONTENT_TYPES = [
  "application/json; charset=utf-8",
  "APPLICATION/JSON",
  "application/json;charset=utf-16",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/problem+json",
  "application/jsonx",
  "json",
  "",
];

function authChoice(withSession: boolean): fc.Arbitrary<AuthChoice> {
  const session = { weight: 8, arbitrary: fc.constant<AuthChoice>({ kind: "session" }) };
  return fc.oneof(
    ...(withSession ? [session] : []),
    { weight: 2, arbitrary: fc.constant<AuthChoice>({ kind: "none" }) },
    {
      weight: 2,
      arbitrary: fc
        .oneof(
          headerText(80),
          headerText(60).map((t) => `Bearer ${t}`),
          fc.stringMatching(/^[A-Za-z0-9_-]{43}$/).map((t) => `Bearer ${t}`), // well-shaped, unknown
          markedSecret.map((t) => `Bearer ${t}`),
          fc.constantFrom("Bearer", "Bearer ", "bearer  x", "Basic dXNlcjpwYXNz", "Bearer a b"),
        )
        .map((value): AuthChoice => ({ kind: "raw", value })),
    },
  );
}

const requestId = fc.option(
  fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
    headerText(40),
    fc.constant("x".repeat(129)),
    fc.constant("../../etc/passwd"),
  ),
  { freq: 3 },
);

const UNPAIRED = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Percent-encodes like encodeURIComponent (which throws on an unpaired surrogate); an unpaired
 * surrogate, which has no UTF-8 form, becomes its WTF-8 bytes (`%ED%A0%80`), the closest a URL
 * can come to carrying it.
 */
export function encodeComponent(text: string): string {
  let out = "";
  for (const ch of text) {
    if (!UNPAIRED.test(ch)) {
      out += encodeURIComponent(ch);
      continue;
    }
    const c = ch.charCodeAt(0);
    for (const b of [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)]) {
      out += `%${b.toString(16).toUpperCase()}`;
    }
  }
  return out;
}

function queryText(pairs: [string, string][]): string {
  const text = pairs.map(([k, v]) => `${encodeComponent(k)}=${encodeComponent(v)}`).join("&");
  return text ? `?${text}` : "";
}

function pathValue(known: Known): fc.Arbitrary<string> {
  return fc.oneof(
    fc.uuid(),
    ...knownIds(known),
    anyText.filter((t) => t.length > 0).map(encodeComponent),
    fc.constantFrom("%2F..", "00000000-0000-0000-0000-000000000000", "null", "%zz", "' OR 1=1 --", "%00"),
  );
}

function queryString(op: Operation, known: Known): fc.Arbitrary<string> {
  const declared = Object.fromEntries(op.query.map((q) => [q.name, valueFor(q.schema, known, q.name)]));
  const required = op.query.filter((q) => q.required).map((q) => q.name);
  const key = fc.oneof(fc.string({ maxLength: 8 }), tainted(fc.string({ maxLength: 6 })));
  const extra = fc.array(fc.tuple(key, anyJson), { maxLength: 2 });
  const encoded = fc
    .tuple(fc.record(declared, { requiredKeys: required }), extra)
    .map(([fields, more]) =>
      queryText(
        [...Object.entries(fields), ...more].map(([k, v]): [string, string] => [
          k,
          typeof v === "string" ? v : JSON.stringify(v),
        ]),
      ),
    );
  const raw = fc.constantFrom("?%", "?a=%E0%A4%A", "?&&==&", "?limit=1&limit=2", "?cursor[]=x", "?tenantId");
  return fc.oneof({ weight: 5, arbitrary: encoded }, { weight: 1, arbitrary: raw });
}

function body(op: Operation, known: Known) {
  const json = (v: unknown) => JSON.stringify(v);
  const schemaBody = op.body
    ? objectFor(op.body, known)
    : fc.dictionary(fc.string({ maxLength: 6 }), anyJson, { maxKeys: 3 });
  return fc.oneof(
    { weight: op.body ? 8 : 1, arbitrary: schemaBody.map(json) },
    { weight: 1, arbitrary: anyJson.map(json) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 48 }) },
    { weight: 1, arbitrary: schemaBody.map((v) => json(v).slice(0, -1)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "",
        "null",
        "[]",
        "{}",
        `{"a":${"[".repeat(5000)}`, // unterminated
        `${"[".repeat(5000)}${"]".repeat(5000)}`, // deep, valid
        `${'{"a":'.repeat(3000)}1${"}".repeat(3000)}`, // deep object, valid
        "x".repeat(70_000), // over the 64 KiB cap
      ),
    },
    { weight: op.body ? 1 : 4, arbitrary: fc.constant(null) },
  );
}

const HEADER_JUNK = fc.record(
  {
    "content-type": fc.oneof(
      { weight: 6, arbitrary: fc.constant("application/json") },
      { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
      { weight: 1, arbitrary: headerText(40) },
    ),
    "x-request-id": requestId,
    "idempotency-key": fc.oneof(
      { weight: 4, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,64}$/) },
      { weight: 1, arbitrary: headerText(40) },
      { weight: 1, arbitrary: fc.constant("k".repeat(256)) },
    ),
    "user-agent": headerText(60),
    "x-forwarded-for": fc.constantFrom("1.2.3.4", "::1, 10.0.0.1", "not-an-ip"),
  },
  { requiredKeys: [] },
);

interface Parts {
  params: string[];
  query: string;
  auth: AuthChoice;
  headers: Record<string, string | null | undefined>;
  body: string | Uint8Array | null;
}

function assemble(op: Operation, parts: Parts): FuzzRequest {
  let i = 0;
  const path = op.path.replace(/\{\w+\}/g, () => parts.params[i++] ?? "");
  const headers = Object.fromEntries(
    Object.entries(parts.headers).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
  return { method: op.method, url: path + parts.query, auth: parts.auth, headers, body: parts.body };
}

/** The pieces of a near-valid request, before they are put together (so one can be spoilt). */
interface ValidParts {
  params: string[];
  query: [string, string][];
  auth: AuthChoice;
  headers: Record<string, string | undefined>;
  body: unknown;
}

/** With `flawed`, the body has every free-text field, so one can carry the flaw. */
function nearValidParts(
  op: Operation,
  known: Known,
  withSession: boolean,
  flawed = false,
): fc.Arbitrary<ValidParts> {
  const id = fc.oneof(fc.uuid(), ...knownIds(known));
  const declared = Object.fromEntries(op.query.map((q) => [q.name, valueFor(q.schema, known, q.name, true)]));
  const required = op.query.filter((q) => q.required).map((q) => q.name);
  const query = fc
    .record(declared, { requiredKeys: required })
    .map((fields) => Object.entries(fields).map(([k, v]): [string, string] => [k, String(v)]));
  const body = op.method === "GET" || op.method === "HEAD" ? null : op.body;
  return fc.record({
    params: fc.tuple(...op.pathParams.map(() => id)),
    query,
    auth: fc.constant<AuthChoice>({ kind: withSession ? "session" : "none" }),
    headers: fc.record(
      {
        "content-type": fc.constant("application/json"),
        "idempotency-key": fc.stringMatching(/^[a-z0-9]{8}$/),
      },
      { requiredKeys: ["content-type"] },
    ),
    body: body ? objectFor(body, known, true, flawed ? op.freeText : []) : fc.constant(undefined),
  });
}

function assembleValid(op: Operation, p: ValidParts): FuzzRequest {
  return assemble(op, {
    params: p.params.map(encodeComponent),
    query: queryText(p.query),
    auth: p.auth,
    headers: p.headers,
    body: p.body === undefined ? null : JSON.stringify(p.body),
  });
}

/** Requests meant to pass validation (clean headers, schema-shaped values), so deeper code runs. */
function nearValid(op: Operation, known: Known, withSession: boolean): fc.Arbitrary<FuzzRequest> {
  return nearValidParts(op, known, withSession).map((p) => assembleValid(op, p));
}

const UUID_SHAPED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every UUID-shaped string in `value` (deeply) in upper case. */
function upperIds(value: unknown): unknown {
  if (typeof value === "string") return UUID_SHAPED.test(value) ? value.toUpperCase() : value;
  if (Array.isArray(value)) return value.map(upperIds);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, upperIds(v)]));
  }
  return value;
}

/**
 * `value` (a JSON body) with `char` put into its `slot`-th string value (or with `inKey`, key;
 * the other kind when it has none of that kind), depth first; `slot` is taken modulo the count.
 * Unchanged (and `false`) when it has neither.
 */
function taintJson(
  value: unknown,
  slot: number,
  inKey: boolean,
  char: string,
  at: Where,
): [unknown, boolean] {
  const strings: { set(v: string): void; get(): string }[] = [];
  const keys: { rename(k: string): void; get(): string }[] = [];
  const visit = (v: unknown, put: (nv: unknown) => void): void => {
    if (typeof v === "string") {
      strings.push({ get: () => v, set: put });
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => {
        visit(item, (nv) => {
          v[i] = nv;
        });
      });
    } else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        visit(o[k], (nv) => {
          o[k] = nv;
        });
        keys.push({
          get: () => k,
          rename: (nk) => {
            o[nk] = o[k];
            delete o[k];
          },
        });
      }
    }
  };
  const copy = structuredClone(value);
  let root = copy;
  visit(copy, (nv) => {
    root = nv;
  });
  if (strings.length + keys.length === 0) return [value, false];
  if (keys.length && (inKey || !strings.length)) {
    const k = keys[slot % keys.length]!;
    k.rename(insertAt(k.get(), char, at));
  } else {
    const s = strings[slot % strings.length]!;
    s.set(insertAt(s.get(), char, at));
  }
  return [root, true];
}

type Flaw =
  | { kind: "upper" }
  | {
      kind: "char";
      char: string;
      at: Where;
      part: "path" | "query" | "body";
      slot: number;
      /** In the body: a key rather than a value. */
      inKey: boolean;
      /** In the body: a free-text field's value (when there is one). */
      free: boolean;
    };

const flaw: fc.Arbitrary<Flaw> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Flaw>({ kind: "upper" }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("char" as const),
      char: hostileChar,
      at: insertionPoint,
      part: fc.constantFrom("path" as const, "query" as const, "body" as const, "body" as const),
      slot: fc.nat(),
      inKey: fc.nat(3).map((n) => n === 0), // a quarter of the time a key
      free: fc.nat(2).map((n) => n > 0), // else two thirds of the time free text
    }),
  },
);

/** `p` with the flaw: every id in upper case, or one hostile character in one string. */
function spoil(op: Operation, p: ValidParts, f: Flaw): ValidParts {
  if (f.kind === "upper") {
    return {
      ...p,
      params: p.params.map((v) => upperIds(v) as string),
      query: p.query.map(([k, v]) => [k, upperIds(v) as string]),
      body: upperIds(p.body),
    };
  }
  const body = p.body as Record<string, unknown> | undefined;
  const free = op.freeText.filter((k) => typeof body?.[k] === "string");
  // The chosen part, or the first that has strings (a request with none gets an extra query value).
  for (const part of [f.part, "body", "query", "path"] as const) {
    if (part === "path" && p.params.length) {
      const params = [...p.params];
      const i = f.slot % params.length;
      params[i] = insertAt(params[i]!, f.char, f.at);
      return { ...p, params };
    }
    if (part === "query" && p.query.length) {
      const query = p.query.map(([k, v]): [string, string] => [k, v]);
      const [i, side] = [Math.floor(f.slot / 2) % query.length, f.slot % 2];
      query[i]![side] = insertAt(query[i]![side]!, f.char, f.at);
      return { ...p, query };
    }
    if (part === "body" && body && free.length && f.free && !f.inKey) {
      const k = free[f.slot % free.length]!;
      return { ...p, body: { ...body, [k]: insertAt(body[k] as string, f.char, f.at) } };
    }
    if (part === "body" && body !== undefined) {
      const [spoilt, done] = taintJson(body, f.slot, f.inKey, f.char, f.at);
      if (done) return { ...p, body: spoilt };
    }
  }
  return { ...p, query: [...p.query, ["q", insertAt("x", f.char, f.at)]] };
}

/** Near-valid requests with one flaw (see the header): a hostile character somewhere, or upper-case ids. */
export function flawedRequestsFor(
  op: Operation,
  known: Known,
  withSession: boolean,
): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(nearValidParts(op, known, withSession, true), flaw)
    .map(([p, f]) => assembleValid(op, spoil(op, p, f)));
}

/** Hostile requests: junk in every part, now and then a valid piece. */
function hostile(op: Operation, known: Known, withSession: boolean): fc.Arbitrary<FuzzRequest> {
  const noBody = op.method === "GET" || op.method === "HEAD";
  return fc
    .record({
      params: fc.tuple(...op.pathParams.map(() => pathValue(known))),
      query: queryString(op, known),
      auth: authChoice(withSession),
      headers: HEADER_JUNK,
      body: noBody ? fc.constant(null) : body(op, known),
    })
    .map((parts) => assemble(op, parts));
}

/**
 * Requests for `op`: three fifths hostile, a fifth near-valid, a fifth near-valid with one flaw;
 * `withSession`: most carry a valid session.
 */
export function requestsFor(op: Operation, known: Known, withSession: boolean): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    { weight: 3, arbitrary: hostile(op, known, withSession) },
    { weight: 1, arbitrary: nearValid(op, known, withSession) },
    { weight: 1, arbitrary: flawedRequestsFor(op, known, withSession) },
  );
}

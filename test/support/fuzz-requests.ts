/**
 * fast-check arbitraries for hostile HTTP requests, derived from the app's own OpenAPI document:
 * every operation it lists, with bodies that are mostly near-valid (the schema's fields with
 * plausible, boundary and wrong-typed values, which is where handlers break) and otherwise any
 * JSON, non-JSON text, invalid UTF-8, truncated or oversized payloads; junk Content-Type,
 * Authorization and X-Request-Id headers; random query strings; path parameters that are random
 * strings, random UUIDs or ids that exist.
 */
import fc from "fast-check";
import {
  anyJson,
  anyText,
  headerText,
  type Known,
  markedSecret,
  objectFor,
  type Schema,
  valueFor,
} from "./fuzz-values";

export { type Known, SECRET_FIELDS, SECRET_MARK } from "./fuzz-values";

export interface Operation {
  method: string;
  /** OpenAPI path template, e.g. `/v1/mfa/totp/{factorId}/verify`. */
  path: string;
  pathParams: string[];
  query: { name: string; schema: Schema; required: boolean }[];
  body: Schema | null;
  /** Declares bearer security (then the runs with a valid session matter). */
  secured: boolean;
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
      ops.push({
        method: method.toUpperCase(),
        path,
        pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
        query: of("query"),
        body: resolve(op.requestBody?.content?.["application/json"]?.schema) ?? null,
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

function pathValue(known: Known): fc.Arbitrary<string> {
  return fc.oneof(
    fc.uuid(),
    ...(known.ids.length ? [fc.constantFrom(...known.ids)] : []),
    anyText.filter((t) => t.length > 0).map(encodeURIComponent),
    fc.constantFrom("%2F..", "00000000-0000-0000-0000-000000000000", "null", "%zz", "' OR 1=1 --"),
  );
}

function queryString(op: Operation, known: Known): fc.Arbitrary<string> {
  const declared = Object.fromEntries(op.query.map((q) => [q.name, valueFor(q.schema, known, q.name)]));
  const required = op.query.filter((q) => q.required).map((q) => q.name);
  const extra = fc.array(fc.tuple(fc.string({ maxLength: 8 }), anyJson), { maxLength: 2 });
  const encoded = fc.tuple(fc.record(declared, { requiredKeys: required }), extra).map(([fields, more]) => {
    const pairs = [...Object.entries(fields), ...more].map(([k, v]): [string, string] => [
      k,
      typeof v === "string" ? v : JSON.stringify(v),
    ]);
    const text = new URLSearchParams(pairs).toString();
    return text ? `?${text}` : "";
  });
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

/** Requests meant to pass validation (clean headers, schema-shaped values), so deeper code runs. */
function nearValid(op: Operation, known: Known, withSession: boolean): fc.Arbitrary<FuzzRequest> {
  const id = fc.oneof(fc.uuid(), ...(known.ids.length ? [fc.constantFrom(...known.ids)] : []));
  const declared = Object.fromEntries(op.query.map((q) => [q.name, valueFor(q.schema, known, q.name, true)]));
  const required = op.query.filter((q) => q.required).map((q) => q.name);
  const query = fc.record(declared, { requiredKeys: required }).map((fields) => {
    const text = new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString();
    return text ? `?${text}` : "";
  });
  const noBody = op.method === "GET" || op.method === "HEAD" || !op.body;
  const validBody = op.body
    ? objectFor(op.body, known, true).map((v) => JSON.stringify(v))
    : fc.constant(null);
  return fc
    .record({
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
      body: noBody ? fc.constant(null) : validBody,
    })
    .map((parts) => assemble(op, parts));
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

/** Requests for `op`, mostly hostile, a quarter near-valid; `withSession`: most carry a valid session. */
export function requestsFor(op: Operation, known: Known, withSession: boolean): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    { weight: 3, arbitrary: hostile(op, known, withSession) },
    { weight: 1, arbitrary: nearValid(op, known, withSession) },
  );
}

/**
 * A client for Neon's SQL-over-HTTP endpoint, the protocol `neon()` of @neondatabase/serverless
 * speaks: `POST https://api.<region host>/sql`, the connection string in `Neon-Connection-String`,
 * a body `{ query, params }` (one statement) or `{ queries: [...] }` (several, run by Neon in ONE
 * transaction), answered with `{ fields, rows }` or `{ results: [...] }`, rows as arrays of text
 * (`Neon-Array-Mode`, `Neon-Raw-Text-Output`), errors as 400 with Postgres's fields (`code`…).
 *
 * Why not `neon()`: that package is one pre-bundled file holding the WebSocket Pool, a Postgres
 * protocol implementation and Node shims; it does not tree-shake, so `neon()` alone costs the
 * Worker bundle 146 KiB minified (47 gzip, a third of its budget). The HTTP protocol needs only
 * fetch and a few type parsers. Its results match `neon()` with drizzle's neon-http settings:
 * db/dialect-neon-http.ts runs the route suites over it, and test/unit/neon-http.test.ts compares
 * it with `neon()` itself against the same endpoint.
 */

/** One statement as sent: text with $n placeholders, and its parameters. */
export interface SqlStatement {
  sql: string;
  params: readonly unknown[];
}

/** One statement's answer: column names and rows of parsed values. */
export interface SqlResult {
  fields: string[];
  rows: unknown[][];
}

export interface NeonHttpClient {
  /** One statement, one HTTP request (autocommit). */
  query(statement: SqlStatement): Promise<SqlResult>;
  /** Several statements in ONE HTTP request, run by Neon as one transaction (all or nothing). */
  transaction(statements: readonly SqlStatement[]): Promise<SqlResult[]>;
}

/** A Postgres error as Neon reports it (status 400): `code` is the SQLSTATE (23505: unique). */
export class NeonDbError extends Error {
  override name = "NeonDbError";
  code?: string;
  constraint?: string;
  detail?: string;
}

/** Neon's endpoint for a connection string: its host with the first label replaced by `api`. */
export function neonHttpEndpoint(connectionString: string): string {
  const { hostname } = new URL(connectionString);
  return `https://${hostname.replace(/^[^.]+\./, "api.")}/sql`;
}

/**
 * Parsers by Postgres type OID, as pg-types's defaults, except timestamps, dates and intervals,
 * which stay text as drizzle's neon-http driver has them (drizzle's columns parse them).
 * Anything else stays text: int8 and numeric (as pg-types), uuid, text. No column here is an
 * array type (they would stay text too).
 */
const PARSERS: Record<number, (text: string) => unknown> = {
  16: (t) => t === "t" || t === "true", // bool
  21: Number, // int2
  23: Number, // int4
  26: Number, // oid
  700: Number, // float4
  701: Number, // float8
  114: (t) => JSON.parse(t), // json
  3802: (t) => JSON.parse(t), // jsonb
};

/** A parameter as `neon()` sends it (pg's prepareValue): text, JSON for objects, null. */
function param(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) {
    return `\\x${Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

interface WireResult {
  fields: { name: string; dataTypeID: number }[];
  rows: (string | null)[][];
}

function parse(result: WireResult): SqlResult {
  const parsers = result.fields.map((f) => PARSERS[f.dataTypeID]);
  return {
    fields: result.fields.map((f) => f.name),
    rows: result.rows.map((row) => row.map((v, i) => (v === null ? null : (parsers[i]?.(v) ?? v)))),
  };
}

export function createNeonHttpClient(
  connectionString: string,
  opts: { endpoint?: string; fetch?: typeof fetch } = {},
): NeonHttpClient {
  const endpoint = opts.endpoint ?? neonHttpEndpoint(connectionString);
  const url = new URL(connectionString);
  // As neon() does: the application name, unless the connection string sets one.
  if (!url.searchParams.has("application_name")) url.searchParams.set("application_name", "udh-api");
  const headers = {
    "content-type": "application/json",
    "Neon-Connection-String": url.toString(),
    "Neon-Raw-Text-Output": "true",
    "Neon-Array-Mode": "true",
  };
  // A batch runs at READ COMMITTED, named rather than left to the endpoint's default: the
  // batches' race guards (a row lock first, then statements that re-read under it) are written
  // for it, as on the WebSocket and TCP paths; at REPEATABLE READ a guard's write after a
  // concurrent commit would fail with a serialization error instead of seeing the new row.
  const transactionHeaders = { ...headers, "Neon-Batch-Isolation-Level": "ReadCommitted" };
  const send = async (body: unknown, sendHeaders: Record<string, string> = headers): Promise<unknown> => {
    const doFetch = opts.fetch ?? fetch;
    let res: Response;
    try {
      res = await doFetch(endpoint, { method: "POST", headers: sendHeaders, body: JSON.stringify(body) });
    } catch (error) {
      throw new Error("could not reach the database over HTTP", { cause: error });
    }
    if (res.ok) return res.json();
    if (res.status === 400) {
      const problem = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      const error = new NeonDbError(String(problem.message ?? "database error"));
      for (const key of ["code", "constraint", "detail"] as const) {
        if (typeof problem[key] === "string") error[key] = problem[key];
      }
      throw error;
    }
    // The body may quote the statement: not carried into the error (nothing secret is logged).
    await res.body?.cancel();
    throw new Error(`database HTTP endpoint answered ${res.status}`);
  };
  const wire = (s: SqlStatement) => ({ query: s.sql, params: s.params.map(param) });
  return {
    query: async (statement) => parse((await send(wire(statement))) as WireResult),
    transaction: async (statements) => {
      const answer = (await send({ queries: statements.map(wire) }, transactionHeaders)) as {
        results?: WireResult[];
      };
      if (!Array.isArray(answer.results) || answer.results.length !== statements.length) {
        throw new Error("database HTTP endpoint: unexpected answer to a transaction");
      }
      return answer.results.map(parse);
    },
  };
}

/**
 * A stand-in for Neon's SQL-over-HTTP endpoint in front of a real Postgres, so tests run
 * `neon()` from @neondatabase/serverless (and drizzle-orm/neon-http) exactly as a Worker does in
 * production, without a Neon account. What is implemented is what the driver sends (read from
 * its source, 1.2.0): `POST /sql` with the headers
 *   Neon-Connection-String    the database to run on (only its user, password and database are
 *                             used: the configured Postgres is the only server ever dialled),
 *   Neon-Raw-Text-Output      "true": values as Postgres's text, parsed by the driver,
 *   Neon-Array-Mode           "true": rows as arrays,
 *   Neon-Batch-Isolation-Level / -Read-Only / -Deferrable   for a transaction,
 * and the body `{query, params}` (one statement) or `{queries: [{query, params}, …]}` (a
 * `transaction([...])`: all in one transaction, in order). Answers: `{fields, rows, rowCount,
 * command, rowAsArray}`, or `{results: [...]}` for a transaction; a Postgres error is HTTP 400
 * with `message` and Postgres's fields (`code`, `detail`, `constraint`, …), which the driver
 * copies onto its NeonDbError, so a unique violation is recognised by its SQLSTATE.
 *
 * Each statement runs with the extended protocol (one statement per query, parameters as text
 * of unknown type, as Neon's proxy does). Requests are counted per database: the round trips a
 * request made on the HTTP path.
 */
import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";

/** Largest request body accepted. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface NeonHttpStandin {
  /** Base URL of the server (`${url}/sql` is the endpoint). */
  url: string;
  port: number;
  /** HTTP requests answered (any status) for `database` since the start. */
  requests(database: string): number;
  close(): Promise<void>;
}

const ISOLATION: Record<string, string> = {
  ReadUncommitted: "READ UNCOMMITTED",
  ReadCommitted: "READ COMMITTED",
  RepeatableRead: "REPEATABLE READ",
  Serializable: "SERIALIZABLE",
};

/** The fields of a Postgres error Neon passes on (the driver's list). */
const ERROR_FIELDS = [
  "severity",
  "code",
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "where",
  "schema",
  "table",
  "column",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
] as const;

/** Every value as Postgres sent it (text): the driver parses them, as it does Neon's raw text output. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

interface Statement {
  query: string;
  params?: unknown[];
}

/** A request the stand-in refuses (HTTP 400 without a Postgres code). */
class BadRequest extends Error {}

export async function startNeonHttpStandin(
  target: { host: string; port: number } = { host: "127.0.0.1", port: 5432 },
): Promise<NeonHttpStandin> {
  const pools = new Map<string, pg.Pool>();
  const counts = new Map<string, number>();

  /** A pool per (user, password, database), always on the configured server. */
  function poolFor(connectionString: string | undefined): { pool: pg.Pool; database: string } {
    if (!connectionString) throw new BadRequest("missing Neon-Connection-String");
    let url: URL;
    try {
      url = new URL(connectionString);
    } catch {
      throw new BadRequest("Neon-Connection-String is not a URL");
    }
    const database = decodeURIComponent(url.pathname.slice(1));
    const user = decodeURIComponent(url.username);
    if (!/^postgres(ql)?:$/.test(url.protocol) || !database || !user)
      throw new BadRequest("Neon-Connection-String needs a postgres:// URL with a user and a database");
    const password = decodeURIComponent(url.password);
    const key = JSON.stringify([user, password, database]);
    let pool = pools.get(key);
    if (!pool) {
      pool = new pg.Pool({
        host: target.host,
        port: target.port,
        user,
        database,
        max: 4,
        ...(password ? { password } : {}),
      });
      // A dropped connection must not crash the test process (a suite's scratch database is
      // dropped WITH (FORCE) while a Worker's after-response work may still hold a client). The
      // pool listens on idle clients only; a checked-out client between two statements needs its
      // own listener, as in functions/platform/serverless-database.ts. The statement then fails.
      pool.on("error", () => {});
      pool.on("connect", (client) => client.on("error", () => {}));
      pools.set(key, pool);
    }
    return { pool, database };
  }

  async function run(client: pg.PoolClient, s: Statement, arrayMode: boolean) {
    if (typeof s?.query !== "string") throw new BadRequest("a statement needs a query string");
    const params = s.params ?? [];
    if (!Array.isArray(params)) throw new BadRequest("params must be an array");
    const r = await client.query({
      text: s.query,
      values: params,
      rowMode: "array",
      types: RAW_TEXT,
      // One statement per query, even without parameters: as Neon's proxy.
      queryMode: "extended",
    } as pg.QueryArrayConfig);
    const fields = r.fields.map((f) => ({
      name: f.name,
      tableID: f.tableID,
      columnID: f.columnID,
      dataTypeID: f.dataTypeID,
      dataTypeSize: f.dataTypeSize,
      dataTypeModifier: f.dataTypeModifier,
      format: "text",
    }));
    const rows = arrayMode
      ? r.rows
      : r.rows.map((row) => Object.fromEntries(fields.map((f, i) => [f.name, row[i]])));
    return { fields, command: r.command, rowCount: r.rowCount, rows, rowAsArray: arrayMode };
  }

  function beginStatement(headers: IncomingMessage["headers"]): string {
    const level = headers["neon-batch-isolation-level"];
    const parts = ["BEGIN"];
    if (level !== undefined) {
      const sqlLevel = typeof level === "string" ? ISOLATION[level] : undefined;
      if (!sqlLevel) throw new BadRequest("unknown Neon-Batch-Isolation-Level");
      parts.push(`ISOLATION LEVEL ${sqlLevel}`);
    }
    if (headers["neon-batch-read-only"] === "true") parts.push("READ ONLY");
    if (headers["neon-batch-deferrable"] === "true") parts.push("DEFERRABLE");
    return parts.join(" ");
  }

  async function answer(req: IncomingMessage, body: string): Promise<unknown> {
    const header = (name: string) => {
      const v = req.headers[name];
      return typeof v === "string" ? v : undefined;
    };
    const { pool, database } = poolFor(header("neon-connection-string"));
    counts.set(database, (counts.get(database) ?? 0) + 1);
    if (header("neon-raw-text-output") !== "true")
      throw new BadRequest("only Neon-Raw-Text-Output: true is supported");
    const arrayMode = header("neon-array-mode") === "true";
    let parsed: { query?: string; params?: unknown[]; queries?: Statement[] };
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new BadRequest("the body is not JSON");
    }
    const client = await pool.connect();
    try {
      if (!Array.isArray(parsed.queries)) return await run(client, parsed as Statement, arrayMode);
      await client.query(beginStatement(req.headers));
      try {
        const results = [];
        for (const s of parsed.queries) results.push(await run(client, s, arrayMode));
        await client.query("COMMIT");
        return { results };
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      }
    } finally {
      client.release();
    }
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    if (req.method !== "POST" || req.url?.split("?")[0] !== "/sql") {
      send(404, { message: "not found" });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on("end", () => {
      answer(req, Buffer.concat(chunks).toString("utf8")).then(
        (value) => send(200, value),
        (error: unknown) => {
          if (error instanceof BadRequest) return send(400, { message: error.message });
          const e = error as Record<string, unknown> & { message?: string };
          if (typeof e?.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) {
            // A Postgres error: its message and fields, as Neon sends them.
            const fields = Object.fromEntries(
              ERROR_FIELDS.filter((f) => e[f] !== undefined).map((f) => [f, e[f]]),
            );
            return send(400, { message: e.message, ...fields });
          }
          // Not Postgres's answer (the server unreachable…): a 5xx, which the driver reports as text.
          send(502, { message: "database unreachable" });
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: (database) => counts.get(database) ?? 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...pools.values()].map((p) => p.end().catch(() => {})));
      pools.clear();
    },
  };
}

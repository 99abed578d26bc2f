/**
 * The Neon SQL-over-HTTP stand-in (test/support/neon-http-standin.ts) driven by the real driver,
 * `neon()` from @neondatabase/serverless: values come back as the driver parses Neon's raw text,
 * a transaction is all or nothing with the isolation asked for, Postgres errors keep their
 * SQLSTATE, one statement per query, and every request is counted for its database.
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isUniqueViolation } from "../../db/dialect";
import { PG_HOST, PG_PORT, scratchDatabase, tcpReachable } from "../support/backends";
import { type NeonHttpStandin, startNeonHttpStandin } from "../support/neon-http-standin";
import { requireService, skipWithout } from "../support/services";

const postgresUp = await tcpReachable(PG_HOST, PG_PORT);

describe.skipIf(skipWithout("Postgres", postgresUp))("Neon SQL-over-HTTP stand-in", () => {
  let standin: NeonHttpStandin;
  let scratch: Awaited<ReturnType<typeof scratchDatabase>>;
  let sql: ReturnType<typeof neon<false, false>>;

  beforeAll(async () => {
    requireService("Postgres", postgresUp);
    standin = await startNeonHttpStandin({ host: PG_HOST, port: PG_PORT });
    scratch = await scratchDatabase();
    neonConfig.fetchEndpoint = () => `${standin.url}/sql`;
    sql = neon(scratch.url);
    await sql`create table t (id int primary key, note text)`;
  });
  afterAll(async () => {
    await standin?.close();
    await scratch?.drop();
  });

  it("answers values as the driver parses them: numbers, booleans, timestamps, jsonb, null, arrays", async () => {
    const [row] = (await sql.query(
      "select $1::int8 as big, $2::numeric as num, true as yes, $3::timestamptz as at, $4::jsonb as doc, null::text as nothing, $5::text[] as list",
      ["9007199254740993", "1.50", "2024-01-02T03:04:05.678Z", JSON.stringify({ a: [1, "x"] }), ["a", "b,c"]],
    )) as Record<string, unknown>[];
    expect(row).toEqual({
      // int8 and numeric stay strings (node-postgres's text parsers), as over the WebSocket.
      big: "9007199254740993",
      num: "1.50",
      yes: true,
      at: new Date("2024-01-02T03:04:05.678Z"),
      doc: { a: [1, "x"] },
      nothing: null,
      list: ["a", "b,c"],
    });
  });

  it("gives full results: fields with their types, the command and the row count", async () => {
    const result = await sql.query(
      "insert into t values ($1, $2), ($3, $4) returning id",
      [1, "one", 2, null],
      {
        fullResults: true,
      },
    );
    expect(result.command).toBe("INSERT");
    expect(result.rowCount).toBe(2);
    expect(result.fields.map((f) => [f.name, f.dataTypeID])).toEqual([["id", 23]]);
    expect(result.rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it("runs a transaction in one request, in order, each statement seeing the ones before", async () => {
    const before = standin.requests(scratch.name);
    const [, seen] = await sql.transaction([
      sql`insert into t values (10, 'ten')`,
      sql`select count(*)::int as n from t where id = 10`,
    ]);
    expect(seen).toEqual([{ n: 1 }]);
    expect(standin.requests(scratch.name) - before).toBe(1);
  });

  it("rolls a failed transaction back whole, and keeps the SQLSTATE of the error", async () => {
    const error = await sql
      .transaction([sql`insert into t values (20, 'twenty')`, sql`insert into t values (10, 'again')`])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: "23505", constraint: "t_pkey" });
    expect(isUniqueViolation(error)).toBe(true);
    expect(await sql`select id from t where id = 20`).toEqual([]);
  });

  it("sets the isolation level, read-only and deferrable the transaction asks for", async () => {
    const [level, readOnly, deferrable] = await sql.transaction(
      [sql`show transaction_isolation`, sql`show transaction_read_only`, sql`show transaction_deferrable`],
      { isolationLevel: "Serializable", readOnly: true, deferrable: true },
    );
    expect([level, readOnly, deferrable]).toEqual([
      [{ transaction_isolation: "serializable" }],
      [{ transaction_read_only: "on" }],
      [{ transaction_deferrable: "on" }],
    ]);
    const [plain] = await sql.transaction([sql`show transaction_isolation`]);
    expect(plain).toEqual([{ transaction_isolation: "read committed" }]);
  });

  it("runs one statement per query, as Neon's proxy (extended protocol)", async () => {
    await expect(sql.query("select 1; select 2")).rejects.toMatchObject({ code: "42601" });
  });

  it("dials only the configured server, whatever host the connection string names", async () => {
    const elsewhere = new URL(scratch.url);
    elsewhere.host = "db.example.invalid:6543";
    expect(await neon(elsewhere.toString())`select 1 as one`).toEqual([{ one: 1 }]);
  });

  it("counts every request for its database", async () => {
    const before = standin.requests(scratch.name);
    await sql`select 1`;
    await sql.transaction([sql`select 1`, sql`select 2`]);
    await sql`select 1/0`.catch(() => {});
    expect(standin.requests(scratch.name) - before).toBe(3);
    expect(standin.requests("some_other_database")).toBe(0);
  });
});

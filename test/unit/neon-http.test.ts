/**
 * The Worker's client for Neon's SQL-over-HTTP protocol (db/neon-http.ts) against the stand-in
 * (test/support/neon-http-standin.ts) in front of real Postgres, side by side with Neon's own
 * driver (`neon()` from @neondatabase/serverless) on the same endpoint: the same values for the
 * types the schema uses (timestamps stay text, as drizzle's neon-http driver has them, for
 * drizzle's columns to parse), the same parameters, a transaction all or nothing, and a Postgres
 * error with its SQLSTATE.
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNeonHttpClient, type NeonHttpClient, neonHttpEndpoint } from "../../db/neon-http";
import { isUniqueViolation } from "../../db/unique-violation";
import { PG_HOST, PG_PORT, scratchDatabase, tcpReachable } from "../support/backends";
import { type NeonHttpStandin, startNeonHttpStandin } from "../support/neon-http-standin";
import { requireService, skipWithout } from "../support/services";

const postgresUp = await tcpReachable(PG_HOST, PG_PORT);

it("derives Neon's endpoint from the connection string's host, as the driver does", () => {
  expect(
    neonHttpEndpoint("postgresql://u:p@ep-cool-darkness-123.us-east-2.aws.neon.tech/db?sslmode=require"),
  ).toBe("https://api.us-east-2.aws.neon.tech/sql");
});

describe.skipIf(skipWithout("Postgres", postgresUp))("the Worker's Neon HTTP client", () => {
  let standin: NeonHttpStandin;
  let scratch: Awaited<ReturnType<typeof scratchDatabase>>;
  let client: NeonHttpClient;
  let driver: ReturnType<typeof neon<true, true>>;

  beforeAll(async () => {
    requireService("Postgres", postgresUp);
    standin = await startNeonHttpStandin({ host: PG_HOST, port: PG_PORT });
    scratch = await scratchDatabase();
    client = createNeonHttpClient(scratch.url, { endpoint: `${standin.url}/sql` });
    neonConfig.fetchEndpoint = () => `${standin.url}/sql`;
    driver = neon(scratch.url, { arrayMode: true, fullResults: true });
    await client.query({
      sql: "create table t (id int primary key, note text, doc jsonb, at timestamptz)",
      params: [],
    });
  });
  afterAll(async () => {
    await standin?.close();
    await scratch?.drop();
  });

  it("answers what Neon's driver answers for the schema's types, parameters included", async () => {
    const text =
      "select $1::int4 as n, $2::int8 as big, $3::numeric as num, $4::bool as yes, $5::jsonb as doc, null::text as nothing, $6::text as quoted, $7::uuid as id, $8::float8 as f";
    const params = [
      42,
      "9007199254740993",
      "1.50",
      true,
      { a: [1, "x"], ünï: "🙂" },
      `it's "quoted" \\ $1`,
      "0191b8e2-7c1a-7d3e-8f00-123456789abc",
      0.25,
    ];
    const ours = await client.query({ sql: text, params });
    const theirs = await driver.query(text, params);
    expect(ours.fields).toEqual(theirs.fields.map((f) => f.name));
    expect(ours.rows).toEqual(theirs.rows);
    expect(ours.rows[0]).toEqual([
      42,
      "9007199254740993",
      "1.50",
      true,
      { a: [1, "x"], ünï: "🙂" },
      null,
      params[5],
      params[6],
      0.25,
    ]);
  });

  it("sends a Date as an instant and answers a timestamptz as Postgres's text", async () => {
    const at = new Date("2024-01-02T03:04:05.678Z");
    const { rows } = await client.query({ sql: "select $1::timestamptz as at", params: [at] });
    expect(new Date(String(rows[0]?.[0])).getTime()).toBe(at.getTime());
  });

  it("runs a transaction at READ COMMITTED, named in Neon's header (not left to the endpoint's default)", async () => {
    const sent: Headers[] = [];
    const recording = createNeonHttpClient(scratch.url, {
      endpoint: `${standin.url}/sql`,
      fetch: (input, init) => {
        sent.push(new Headers(init?.headers));
        return fetch(input, init);
      },
    });
    const [level] = await recording.transaction([
      { sql: "select current_setting('transaction_isolation')", params: [] },
    ]);
    expect(level?.rows).toEqual([["read committed"]]);
    await recording.query({ sql: "select 1", params: [] });
    expect(sent.map((h) => h.get("neon-batch-isolation-level"))).toEqual(["ReadCommitted", null]);
  });

  it("runs a transaction all or nothing, and reports a unique violation with its SQLSTATE", async () => {
    const [first, second] = await client.transaction([
      { sql: "insert into t (id, note) values ($1, $2) returning id", params: [1, "one"] },
      { sql: "select count(*)::int as n from t", params: [] },
    ]);
    expect(first?.rows).toEqual([[1]]);
    expect(second?.rows).toEqual([[1]]);
    const failed = await client
      .transaction([
        { sql: "insert into t (id, note) values ($1, $2)", params: [2, "two"] },
        { sql: "insert into t (id, note) values ($1, $2)", params: [1, "again"] },
      ])
      .catch((error: unknown) => error);
    expect(isUniqueViolation(failed)).toBe(true);
    expect((failed as { code?: string }).code).toBe("23505");
    const { rows } = await client.query({ sql: "select id from t order by id", params: [] });
    expect(rows).toEqual([[1]]); // the batch's first insert was rolled back
  });
});

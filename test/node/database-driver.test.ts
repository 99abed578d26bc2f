/**
 * Which Postgres driver a DATABASE_URL gets (platform/database-url.ts), the configuration that
 * steers it (DATABASE_DRIVER, DATABASE_POOL_MAX), and the Node entry itself started on a plain
 * postgres:// URL: it must reach Postgres over TCP through `pg` (the Neon driver could not: it
 * speaks WebSocket, and nothing relays here).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../functions/config";
import { databaseDriverFor, postgresDriverFor } from "../../functions/platform/database-url";
import { type Backend, openNodeBackend, PG_HOST, PG_PORT, tcpReachable } from "../support/backends";
import { type ChildScript, startScript } from "../support/server-process";
import { requireService, skipWithout } from "../support/services";

const postgresUp = await tcpReachable(PG_HOST, PG_PORT);
const secrets = () => ({
  IP_HASH_KEY: randomBytes(32).toString("base64"),
  ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
});

describe("DATABASE_URL → driver", () => {
  it("gives Neon hosts the Neon driver and every other Postgres host pg", () => {
    const neon = [
      "postgres://app:pw@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require",
      "postgresql://app:pw@ep-cool-darkness-123456-pooler.eu-central-1.aws.neon.tech/neondb",
      "postgres://app:pw@ep-x.EU-WEST-2.AWS.NEON.TECH:5432/db",
      "postgres://app:pw@ep-x.staging.neon.build/db",
    ];
    const plain = [
      "postgres://app:pw@mydb.abc123.eu-west-1.rds.amazonaws.com:5432/app?sslmode=verify-full",
      "postgres://app:pw@10.0.0.5/app",
      "postgresql://postgres@127.0.0.1:5432/postgres",
      "postgres://app@[::1]:5432/app",
      "postgres://app@localhost/app",
      // Look-alikes are not Neon: only the host's own suffix counts.
      "postgres://app@neon.tech.example.com/app",
      "postgres://app@myneon.tech/app",
      "postgres://ep-x.neon.tech@db.example.com/app",
      // A Unix socket (host in the query): plain Postgres.
      "postgres:///app?host=/var/run/postgresql",
    ];
    for (const url of neon) expect(postgresDriverFor(url), url).toBe("neon");
    for (const url of plain) expect(postgresDriverFor(url), url).toBe("pg");
  });

  it("lets DATABASE_DRIVER force either driver, treats empty as unset, and refuses anything else", () => {
    const rds = "postgres://app:s3cret@mydb.rds.amazonaws.com/app";
    const neon = "postgres://app:s3cret@ep-x.neon.tech/app";
    expect(postgresDriverFor(rds, "neon")).toBe("neon");
    expect(postgresDriverFor(neon, "pg")).toBe("pg");
    expect(postgresDriverFor(rds, "")).toBe("pg");
    expect(() => postgresDriverFor(rds, "postgres")).toThrow(/^DATABASE_DRIVER must be neon or pg$/);
    // neon-http is the Workers' HTTP path (platform/worker-database.ts): not a Node driver.
    expect(() => postgresDriverFor(rds, "neon-http")).toThrow(/^DATABASE_DRIVER=neon-http is for Workers/);
    // The URL carries the password: an unparsable one is refused without quoting it.
    expect(() => postgresDriverFor("postgres://app:s3cret@[bad")).toThrow(/^DATABASE_URL is not a valid/);
    expect(() => postgresDriverFor("postgres://app:s3cret@[bad")).not.toThrow(/s3cret/);
  });

  it("keeps libSQL URLs on libSQL whatever DATABASE_DRIVER says", () => {
    expect(databaseDriverFor("file:.data/dev.db")).toBe("libsql");
    expect(databaseDriverFor("libsql://db.turso.io", "pg")).toBe("libsql");
    expect(databaseDriverFor("postgres://db.example.com/app")).toBe("pg");
  });
});

describe("DATABASE_DRIVER and DATABASE_POOL_MAX (functions/config.ts)", () => {
  it("defaults to choosing by host, with a pool of 32", () => {
    const config = loadConfig(secrets());
    expect(config.database).toEqual({ poolMax: 32 });
  });

  it("reads both; an empty DATABASE_DRIVER is unset", () => {
    expect(loadConfig({ ...secrets(), DATABASE_DRIVER: "" }).database).toEqual({ poolMax: 32 });
    const config = loadConfig({ ...secrets(), DATABASE_DRIVER: "pg", DATABASE_POOL_MAX: "8" });
    expect(config.database).toEqual({ driver: "pg", poolMax: 8 });
    expect(loadConfig({ ...secrets(), DATABASE_DRIVER: "neon-http" }).database.driver).toBe("neon-http");
  });

  it("refuses bad values, naming the variable", () => {
    for (const [name, value] of [
      ["DATABASE_POOL_MAX", "0"],
      ["DATABASE_POOL_MAX", "1.5"],
      ["DATABASE_POOL_MAX", "many"],
      ["DATABASE_POOL_MAX", "100000"],
      ["DATABASE_DRIVER", "postgres"],
    ] as const) {
      expect(() => loadConfig({ ...secrets(), [name]: value }), `${name}=${value}`).toThrow(
        new RegExp(`^invalid configuration: ${name}`),
      );
    }
  });
});

describe.skipIf(skipWithout("Postgres", postgresUp))("Node entry on a plain postgres:// URL", () => {
  let backend: Backend | undefined;
  let server: ChildScript | undefined;

  beforeAll(async () => {
    requireService("Postgres", postgresUp);
    // Only for its scratch database: the entry migrates it again at start (a no-op) through pg.
    backend = await openNodeBackend("postgres-pg");
  });
  afterAll(async () => {
    await server?.stop();
    await backend?.close();
  });

  it("picks pg with DATABASE_DRIVER unset, migrates and serves over TCP", async () => {
    const env: Record<string, string> = {
      ...secrets(),
      APP_ENV: "test",
      DATABASE_URL: backend!.url!,
      PORT: "0",
    };
    server = await startScript({ script: "functions/node.ts", env: { ...env, DATABASE_DRIVER: "" } });
    expect(server.ready.databaseDriver).toBe("pg");
    const base = `http://127.0.0.1:${server.ready.port}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const email = `node-entry-${randomUUID()}@example.test`;
    const res = await fetch(`${base}/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "node entry correct horse battery" }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    // The account is in the scratch database: the entry wrote it there, not anywhere else.
    const { db, t } = backend!.open();
    const rows = await db.select({ id: t.users.id }).from(t.users);
    expect(rows).toHaveLength(1);
    await server.stop();
  });

  it("with DATABASE_DRIVER=neon takes the Neon driver, which cannot reach this server (WebSocket)", async () => {
    const env = {
      ...secrets(),
      APP_ENV: "test",
      DATABASE_URL: backend!.url!,
      PORT: "0",
      DATABASE_DRIVER: "neon",
    };
    await expect(startScript({ script: "functions/node.ts", env, timeoutMs: 20_000 })).rejects.toThrow(
      /exited early/,
    );
  });
});

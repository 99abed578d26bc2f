/**
 * The databases the Node test project runs every route suite against: libSQL (a temporary
 * file), real Postgres through the Neon serverless driver over a WebSocket relay ("postgres"),
 * and the same Postgres over plain TCP through node-postgres ("postgres-pg", what the Node and
 * Lambda entries use for a non-Neon host), each in a scratch database with the committed
 * migrations applied. The app's libSQL handles yield to
 * the event loop before every statement (yieldingClient), so races show on libSQL too.
 */
import { rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, createClient } from "@libsql/client";
import { neonConfig, Pool, type PoolClient } from "@neondatabase/serverless";
import pg from "pg";
import ws from "ws";
import type { Database } from "../../db/database";
import { libsqlDatabase, neonDatabase } from "../../db/dialect";
import { pgDatabase } from "../../db/dialect-pg";
import { migrateDatabase } from "../../db/migrate";
import { type PgRelay, startPgRelay } from "./pg-relay";

export type NodeBackendName = "libsql" | "postgres" | "postgres-pg";
export const NODE_BACKENDS: NodeBackendName[] = ["libsql", "postgres", "postgres-pg"];

/** True for the backends that need the Postgres server (to skip them on a laptop without it). */
export function onPostgres(name: NodeBackendName): boolean {
  return name !== "libsql";
}

export const PG_HOST = process.env.PGHOST_TEST ?? "127.0.0.1";
export const PG_PORT = Number(process.env.PGPORT_TEST ?? 5432);
export const PG_USER = process.env.PGUSER_TEST ?? "postgres";

export interface Backend {
  name: NodeBackendName;
  /** Opens a request-scoped handle (own statement counter) on the backend's shared client. */
  open(): Database;
  /** Postgres through the Neon driver only: the relay, for fault tests. */
  relay?: PgRelay;
  /** Postgres only: the scratch database's connection string (the Neon driver goes through the relay). */
  url?: string;
  close(): Promise<void>;
}

/** True when something accepts TCP connections on host:port within a short time. */
export function tcpReachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

const randomSuffix = () => crypto.randomUUID().replaceAll("-", "").slice(0, 16);

/**
 * Lets the event loop run: mostly at once (setImmediate, which costs next to nothing), one time
 * in ten after 1–2 ms, so a statement is now and then overtaken by a whole other request.
 */
function pause(): Promise<void> {
  return new Promise((resolve) => {
    const r = Math.random();
    if (r < 0.9) setImmediate(resolve);
    else setTimeout(resolve, r < 0.95 ? 1 : 2);
  });
}

/**
 * `client` with a pause before every `execute` and `batch`. A local libSQL file answers
 * synchronously, so otherwise a request's statements run back to back and never interleave with
 * another request's: a read-then-write race (a spend without `WHERE used_at IS NULL`) could not
 * lose on libSQL, as it can on Postgres and D1. With the pauses, concurrent requests interleave
 * between statements, in a different order each run. (`batch` stays one transaction.)
 */
export function yieldingClient(client: Client): Client {
  return new Proxy(client, {
    get(target, key) {
      if (key === "execute" || key === "batch") {
        const method = target[key] as (...args: unknown[]) => Promise<unknown>;
        return async (...args: unknown[]) => {
          await pause();
          return method.apply(target, args);
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function openLibsql(): Promise<Backend> {
  const file = join(tmpdir(), `udh-test-${randomSuffix()}.db`);
  const client = createClient({ url: `file:${file}` });
  // WAL lets readers proceed while a batch writes; the timeout makes writers wait, not fail.
  await client.execute("PRAGMA journal_mode = WAL");
  await client.execute("PRAGMA busy_timeout = 5000");
  await migrateDatabase(libsqlDatabase(client));
  const yielding = yieldingClient(client);
  return {
    name: "libsql",
    open: () => libsqlDatabase(yielding),
    close: async () => {
      client.close();
      for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
    },
  };
}

/**
 * Creates a scratch database on the test server (a copy of `template` when given: no connection
 * may be open on the template meanwhile); `drop` removes it (connections and all).
 */
export async function scratchDatabase(
  opts: { template?: string } = {},
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `udh_test_${randomSuffix()}`;
  const admin = new pg.Client({ connectionString: `postgres://${PG_USER}@${PG_HOST}:${PG_PORT}/postgres` });
  admin.on("error", () => {});
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}${opts.template ? ` TEMPLATE ${opts.template}` : ""}`);
  } finally {
    await admin.end().catch(() => {});
  }
  return {
    url: `postgres://${PG_USER}@${PG_HOST}:${PG_PORT}/${name}`,
    name,
    drop: async () => {
      // A connection of its own: the one above is long gone, and a cut (fault tests) must not matter.
      const dropper = new pg.Client({
        connectionString: `postgres://${PG_USER}@${PG_HOST}:${PG_PORT}/postgres`,
      });
      dropper.on("error", () => {});
      try {
        await dropper.connect();
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } catch {
        // best effort: a leftover scratch database is harmless
      } finally {
        await dropper.end().catch(() => {});
      }
    },
  };
}

async function openPostgres(): Promise<Backend> {
  const relay = await startPgRelay({ host: PG_HOST, port: PG_PORT });
  neonConfig.webSocketConstructor = ws;
  neonConfig.wsProxy = (host, port) => `127.0.0.1:${relay.port}/v1?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineConnect = false;
  neonConfig.pipelineTLS = false;

  const scratch = await scratchDatabase();
  const pool = new Pool({ connectionString: scratch.url, max: 10 });
  // As in functions/platform/serverless-database.ts: a dropped connection must not crash the test process.
  pool.on("error", () => {});
  pool.on("connect", (client: PoolClient) => client.on("error", () => {}));
  await migrateDatabase(neonDatabase(pool));
  return {
    name: "postgres",
    open: () => neonDatabase(pool),
    relay,
    url: scratch.url,
    close: async () => {
      await pool.end().catch(() => {});
      await scratch.drop();
      await relay.close();
    },
  };
}

/** The same Postgres over plain TCP through node-postgres, with a pool like the Neon backend's. */
async function openPostgresPg(): Promise<Backend> {
  const scratch = await scratchDatabase();
  const pool = new pg.Pool({ connectionString: scratch.url, max: 10 });
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  await migrateDatabase(pgDatabase(pool));
  return {
    name: "postgres-pg",
    open: () => pgDatabase(pool),
    url: scratch.url,
    close: async () => {
      await pool.end().catch(() => {});
      await scratch.drop();
    },
  };
}

export function openNodeBackend(name: NodeBackendName): Promise<Backend> {
  if (name === "libsql") return openLibsql();
  return name === "postgres" ? openPostgres() : openPostgresPg();
}

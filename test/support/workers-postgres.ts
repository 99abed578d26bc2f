/**
 * The Node side of the Workers project's Postgres runs (a vitest globalSetup): workerd has no
 * TCP sockets for `pg`, so, as in production, the Worker reaches Postgres through Neon's
 * SQL-over-HTTP endpoint, played here by the stand-in (neon-http-standin.ts) in front of the
 * local Postgres. A template database gets the committed migrations once; each suite in workerd
 * asks the control server below for a scratch copy of it (a fresh database per suite, as the
 * Node project and D1 give), and reads there what the stand-in saw of its database (HTTP
 * requests: round trips on the wire). Everything is dropped in teardown. (The Worker has no
 * WebSocket path, so no relay runs here: the bundle test checks that Neon's driver is not in
 * the bundle at all.)
 *
 * Postgres missing: in CI (CI=true) the run fails here; elsewhere the Postgres suites skip with
 * a "SKIPPED" line (nothing is provided).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { pgDatabase } from "../../db/dialect-pg";
import { migrateDatabase } from "../../db/migrate";
import { PG_HOST, PG_PORT, scratchDatabase, tcpReachable } from "./backends";
import type { WireTotals } from "./harness";
import { startNeonHttpStandin } from "./neon-http-standin";
import { requireService } from "./services";

/** What the workerd side gets through `inject("workersPostgres")`. */
export interface WorkersPostgres {
  /** The stand-in's endpoint (DATABASE_HTTP_ENDPOINT). */
  sqlEndpoint: string;
  /** The control server: POST /databases, DELETE /databases/:name, GET /wire/:name. */
  controlUrl: string;
}

declare module "vitest" {
  interface ProvidedContext {
    workersPostgres: WorkersPostgres | null;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const up = await tcpReachable(PG_HOST, PG_PORT);
  if (!requireService("Postgres", up)) {
    project.provide("workersPostgres", null);
    return undefined;
  }
  const target = { host: PG_HOST, port: PG_PORT };
  const template = await scratchDatabase();
  const pool = new pg.Pool({ connectionString: template.url, max: 1 });
  try {
    await migrateDatabase(pgDatabase(pool));
  } finally {
    // A template must have no connection open while it is copied.
    await pool.end();
  }
  const standin = await startNeonHttpStandin(target);
  const scratches = new Map<string, Awaited<ReturnType<typeof scratchDatabase>>>();

  const wire = (name: string): WireTotals => ({ httpRequests: standin.requests(name) });

  const control = createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const [, resource, name] = (req.url ?? "").split("?")[0]!.split("/");
    req.resume();
    (async () => {
      if (req.method === "POST" && resource === "databases" && !name) {
        const scratch = await scratchDatabase({ template: template.name });
        scratches.set(scratch.name, scratch);
        return send(201, { name: scratch.name, url: scratch.url });
      }
      const scratch = name ? scratches.get(name) : undefined;
      if (!scratch) return send(404, { message: "no such scratch database" });
      if (req.method === "DELETE" && resource === "databases") {
        scratches.delete(scratch.name);
        await scratch.drop();
        return send(204, null);
      }
      if (req.method === "GET" && resource === "wire") return send(200, wire(scratch.name));
      send(404, { message: "not found" });
    })().catch((error: unknown) => send(500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));
  const { port } = control.address() as AddressInfo;

  project.provide("workersPostgres", {
    sqlEndpoint: `${standin.url}/sql`,
    controlUrl: `http://127.0.0.1:${port}`,
  });
  return async () => {
    control.closeAllConnections();
    await new Promise<void>((resolve) => control.close(() => resolve()));
    await standin.close();
    await Promise.all([...scratches.values()].map((s) => s.drop()));
    await template.drop();
  };
}

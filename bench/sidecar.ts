/**
 * The stand-ins for Neon's WebSocket proxy and Upstash's REST endpoint, in a process of their
 * own: in production both run on other machines, so their CPU must not be billed to the server
 * being measured. Run: `node --import tsx bench/sidecar.ts`; prints one JSON line
 * `{ msg: "listening", relayPort, bridgeUrl, bridgeToken, wireUrl }` and runs until SIGTERM/SIGINT.
 *
 * BENCH_WAN_MS (WAN mode): both stand-ins delay every message by that many ms each way (see
 * test/support/pg-relay.ts and upstash-bridge.ts). `GET wireUrl` answers what went over the
 * wire: the relay's and the bridge's counters and, in WAN mode, the time (ms since the epoch,
 * sub-millisecond) each turn started, so the bench can tell which turns a request waited for;
 * `GET wireUrl?clock` answers the sidecar's clock alone.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PG_HOST, PG_PORT } from "../test/support/backends";
import { startPgRelay } from "../test/support/pg-relay";
import { startUpstashBridge } from "../test/support/upstash-bridge";

const delayMs = Number(process.env.BENCH_WAN_MS ?? 0);
const epochMs = () => performance.timeOrigin + performance.now();
/** Turn start times, kept only in WAN mode (its runs are short; the load runs would pile up millions). */
const turnsAt = { db: [] as number[], limiter: [] as number[] };
const record = (list: number[]) => (delayMs > 0 ? () => list.push(epochMs()) : undefined);

const relay = await startPgRelay({ host: PG_HOST, port: PG_PORT }, { delayMs, onTurn: record(turnsAt.db) });
const bridge = await startUpstashBridge({
  ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
  delayMs,
  onTurn: record(turnsAt.limiter),
});

export interface WireReport {
  delayMs: number;
  relay: ReturnType<typeof relay.wire>;
  bridge: ReturnType<typeof bridge.wire>;
  /** Turn start times since the previous report (the lists are emptied by each GET). */
  turnsAt: { db: number[]; limiter: number[] };
  /** The sidecar's clock when it answered: the bench measures the offset to its own with it. */
  now: number;
}

const wireServer = createServer((req, res) => {
  // `?clock`: the time only (the bench probes the clocks' offset without emptying the lists).
  if (req.url?.endsWith("?clock")) return res.end(JSON.stringify({ now: epochMs() }));
  const report: WireReport = {
    delayMs,
    relay: relay.wire(),
    bridge: bridge.wire(),
    turnsAt: { db: turnsAt.db.splice(0), limiter: turnsAt.limiter.splice(0) },
    now: epochMs(),
  };
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(report));
});
await new Promise<void>((resolve) => wireServer.listen(0, "127.0.0.1", () => resolve()));

console.log(
  JSON.stringify({
    level: "info",
    msg: "listening",
    relayPort: relay.port,
    bridgeUrl: bridge.url,
    bridgeToken: bridge.token,
    wireUrl: `http://127.0.0.1:${(wireServer.address() as AddressInfo).port}/wire`,
    delayMs,
  }),
);

async function shutdown() {
  wireServer.close();
  wireServer.closeAllConnections();
  await bridge.close().catch(() => {});
  await relay.close().catch(() => {});
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

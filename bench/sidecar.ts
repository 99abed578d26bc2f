/**
 * The stand-ins for Neon's WebSocket proxy and Upstash's REST endpoint, in a process of their
 * own: in production both run on other machines, so their CPU must not be billed to the server
 * being measured. Run: `node --import tsx bench/sidecar.ts`; prints one JSON line
 * `{ msg: "listening", relayPort, bridgeUrl, bridgeToken }` and runs until SIGTERM/SIGINT.
 */
import { PG_HOST, PG_PORT } from "../test/support/backends";
import { startPgRelay } from "../test/support/pg-relay";
import { startUpstashBridge } from "../test/support/upstash-bridge";

const relay = await startPgRelay({ host: PG_HOST, port: PG_PORT });
const bridge = await startUpstashBridge(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {});
console.log(
  JSON.stringify({
    level: "info",
    msg: "listening",
    relayPort: relay.port,
    bridgeUrl: bridge.url,
    bridgeToken: bridge.token,
  }),
);

async function shutdown() {
  await bridge.close().catch(() => {});
  await relay.close().catch(() => {});
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

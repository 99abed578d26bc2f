/**
 * The workers project's relay (test/support/workers-postgres.ts): pg-relay.ts's WebSocket-to-TCP
 * relay with per-database wire counts and a connection cap, for the Postgres suites inside
 * workerd. (pg-relay.ts, the Node suites' and the bench's, has the WAN delay instead; the two
 * share their relaying core by copy, see the issue note.)
 *
 * A WebSocket-to-TCP relay so the Neon serverless driver (which speaks Postgres over a
 * WebSocket, as in production) can reach the local Postgres. Only the configured target is
 * ever dialled, whatever address the client asks for.
 *
 * It also counts each connection's round trips on the wire, the connection's set-up included:
 * the WebSocket upgrade is one (an HTTP request and its 101), then every flight of client bytes
 * the server answers is one (bytes the client sends before the answer belong to the same flight;
 * a flight never answered, such as the final Terminate, is none). Flights before the server's
 * first ReadyForQuery are the Postgres start-up (one with trust authentication, more with a
 * password exchange); the rest are the connection's queries. The database comes from the
 * start-up message (plain text: no TLS inside the relay), so counts can be read per database.
 */
import { createServer } from "node:http";
import net from "node:net";
import { WebSocketServer } from "ws";

/** One relayed connection as seen on the wire (live: counts grow as traffic flows). */
export interface WireConnection {
  /** The database named in the start-up message ("" until it arrives). */
  database: string;
  /** Round trips before the first query could be sent: the WebSocket upgrade and Postgres's start-up. */
  handshakeRoundTrips: number;
  /** Round trips after the start-up: the connection's queries. */
  queryRoundTrips: number;
}

export interface PgRelay {
  port: number;
  /** Every connection relayed so far, in the order they were opened (those of `database` only, if given). */
  connections(database?: string): WireConnection[];
  /** Drops every relayed connection (fault tests). */
  dropAll(): void;
  close(): Promise<void>;
}

/** The `database` parameter of a Postgres StartupMessage (length, protocol 3.0, then name/value pairs). */
function startupDatabase(message: Buffer): string {
  if (message.length < 8 || message.readInt32BE(4) !== 196608) return "";
  const pairs = message.subarray(8).toString("utf8").split("\0");
  const params = new Map<string, string>();
  for (let i = 0; i + 1 < pairs.length; i += 2) if (pairs[i]) params.set(pairs[i]!, pairs[i + 1]!);
  return params.get("database") ?? params.get("user") ?? "";
}

/** Watches the server's byte stream, message by message, for its first ReadyForQuery ('Z'). */
function readyForQueryWatcher(): (chunk: Buffer) => boolean {
  let header = Buffer.alloc(0);
  let skip = 0;
  let ready = false;
  return (chunk) => {
    let offset = 0;
    while (!ready && offset < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - offset);
        skip -= n;
        offset += n;
        continue;
      }
      const n = Math.min(5 - header.length, chunk.length - offset);
      header = Buffer.concat([header, chunk.subarray(offset, offset + n)]);
      offset += n;
      if (header.length < 5) break;
      if (header[0] === 0x5a) ready = true;
      skip = header.readInt32BE(1) - 4;
      header = Buffer.alloc(0);
    }
    return ready;
  };
}

/**
 * `maxConnections`: at most this many connections to Postgres at once; a WebSocket beyond it
 * waits (its bytes held) until one closes, as clients of Neon's pooled endpoint wait for a
 * server connection, instead of failing with "too many clients" on the test server's
 * max_connections (100, shared by every suite and every backend).
 */
export async function startPgRelay(
  target = { host: "127.0.0.1", port: 5432 },
  opts: { maxConnections?: number } = {},
): Promise<PgRelay> {
  const maxConnections = opts.maxConnections ?? Number.POSITIVE_INFINITY;
  let open = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    open--;
    while (open < maxConnections && waiting.length > 0) waiting.shift()!();
  };
  const server = createServer((_req, res) => {
    res.writeHead(426).end();
  });
  const wss = new WebSocketServer({ server });
  const sockets = new Set<net.Socket>();
  const seen: WireConnection[] = [];
  wss.on("connection", (ws) => {
    // The upgrade the connection was opened with: its first round trip.
    const wire: WireConnection = { database: "", handshakeRoundTrips: 1, queryRoundTrips: 0 };
    seen.push(wire);
    const ready = readyForQueryWatcher();
    let started = false;
    let awaitingAnswer = false;
    let flightIsHandshake = true;
    let tcp: net.Socket | undefined;
    let closed = false;
    const held: Buffer[] = [];
    ws.on("message", (data: Buffer) => {
      if (!started) {
        started = true;
        wire.database = startupDatabase(data);
      }
      if (!awaitingAnswer) {
        awaitingAnswer = true;
        flightIsHandshake = !ready(Buffer.alloc(0));
      }
      if (tcp) tcp.write(data);
      else held.push(data);
    });
    const end = () => {
      if (closed) return;
      closed = true;
      if (tcp) {
        sockets.delete(tcp);
        tcp.destroy();
        release();
      } else {
        const i = waiting.indexOf(connect);
        if (i >= 0) waiting.splice(i, 1);
      }
      ws.terminate();
    };
    ws.on("close", end);
    ws.on("error", end);
    function connect() {
      if (closed) return;
      open++;
      const socket = net.connect(target.port, target.host);
      tcp = socket;
      sockets.add(socket);
      socket.setNoDelay(true);
      for (const data of held.splice(0)) socket.write(data);
      socket.on("data", (chunk) => {
        if (awaitingAnswer) {
          awaitingAnswer = false;
          if (flightIsHandshake) wire.handshakeRoundTrips++;
          else wire.queryRoundTrips++;
        }
        ready(chunk);
        ws.send(chunk);
      });
      socket.on("close", end);
      socket.on("error", end);
    }
    if (open < maxConnections) connect();
    else waiting.push(connect);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("unexpected relay address");
  return {
    port: address.port,
    connections: (database) => seen.filter((c) => database === undefined || c.database === database),
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

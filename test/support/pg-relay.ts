/**
 * A WebSocket-to-TCP relay so the Neon serverless driver (which speaks Postgres over a
 * WebSocket, as in production) can reach the local Postgres. Only the configured target is
 * ever dialled, whatever address the client asks for.
 *
 * With `delayMs` (the WAN mode of `npm run bench`) the relay plays a network with that one-way
 * latency between the client and the relay: every message, either way, is delivered `delayMs`
 * after it was sent, in order, without waiting behind the others in flight; a new connection
 * opens only after `CONNECT_ROUND_TRIPS` round trips (TCP handshake, then the HTTP upgrade).
 * The hop from the relay to Postgres stays undelayed (Neon's proxy sits next to the database).
 */
import type { Buffer } from "node:buffer";
import { createServer } from "node:http";
import net from "node:net";
import { WebSocketServer } from "ws";
import { delayLine, realScheduler, type Scheduler, sleep } from "./delay-line";

/** Round trips before a new WebSocket carries its first byte: TCP handshake and HTTP upgrade (ws://, no TLS). */
export const CONNECT_ROUND_TRIPS = 2;

/** What went over the client side of the relay since it started. */
export interface RelayWire {
  /** WebSocket connections opened. */
  connections: number;
  /** Messages from the clients, and chunks sent back to them. */
  messagesIn: number;
  messagesOut: number;
  /**
   * Turns over all connections together: a client message that follows an answer (or is the
   * first). Messages sent before any answer came back (pipelined, or on two connections at once)
   * are one turn; a Terminate is none. With one request at a time this is the number of database
   * round trips.
   */
  turns: number;
}

export interface PgRelay {
  port: number;
  /** Drops every relayed connection (fault tests). */
  dropAll(): void;
  close(): Promise<void>;
  /** Counters of what went over the wire (a copy). */
  wire(): RelayWire;
}

export interface PgRelayOptions {
  /** One-way latency in ms between the client and the relay (default 0: none). */
  delayMs?: number;
  /** Called when a turn starts (the bench attributes turns to requests by time). */
  onTurn?: () => void;
  /** Clock and timers for the delay (tests inject fake ones). */
  scheduler?: Scheduler;
}

/** Postgres' Terminate message alone: 'X' and the length 4. */
function isTerminate(data: Buffer): boolean {
  return data.length === 5 && data[0] === 0x58 && data.readInt32BE(1) === 4;
}

export async function startPgRelay(
  target = { host: "127.0.0.1", port: 5432 },
  opts: PgRelayOptions = {},
): Promise<PgRelay> {
  const delayMs = opts.delayMs ?? 0;
  const scheduler = opts.scheduler ?? realScheduler;
  const wire: RelayWire = { connections: 0, messagesIn: 0, messagesOut: 0, turns: 0 };
  let answeredSinceLastMessage = true;

  const http = createServer((_req, res) => res.writeHead(426).end());
  const wss = new WebSocketServer({ noServer: true });
  const upgrading = new Set<{ destroy(): void }>();
  http.on("upgrade", (req, socket, head) => {
    upgrading.add(socket);
    // The client's TCP handshake and upgrade request, then the 101 back: it can send only after that.
    void sleep(2 * CONNECT_ROUND_TRIPS * delayMs, scheduler).then(() => {
      upgrading.delete(socket);
      if (socket.destroyed) return;
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
    });
  });

  const sockets = new Set<net.Socket>();
  wss.on("connection", (ws) => {
    wire.connections++;
    const tcp = net.connect(target.port, target.host);
    sockets.add(tcp);
    tcp.setNoDelay(true);
    const end = () => {
      toServer.clear();
      toClient.clear();
      sockets.delete(tcp);
      tcp.destroy();
      ws.terminate();
    };
    // null is the end of the stream: it travels behind the data sent before it.
    const toServer = delayLine<Buffer | null>(delayMs, (data) => (data ? tcp.write(data) : end()), scheduler);
    const toClient = delayLine<Buffer | null>(delayMs, (data) => (data ? ws.send(data) : end()), scheduler);
    ws.on("message", (data: Buffer) => {
      wire.messagesIn++;
      // A Terminate (a pool closing an idle connection) expects no answer: no turn, and it must
      // not hide the next one behind an answer that never comes.
      if (isTerminate(data)) return toServer.push(data);
      if (answeredSinceLastMessage) {
        wire.turns++;
        opts.onTurn?.();
      }
      answeredSinceLastMessage = false;
      toServer.push(data);
    });
    tcp.on("data", (chunk) => {
      wire.messagesOut++;
      answeredSinceLastMessage = true;
      toClient.push(chunk);
    });
    ws.on("close", () => toServer.push(null));
    tcp.on("close", () => toClient.push(null));
    ws.on("error", end);
    tcp.on("error", end);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", () => resolve()));
  const address = http.address();
  if (!address || typeof address === "string") throw new Error("unexpected relay address");
  return {
    port: address.port,
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    wire: () => ({ ...wire }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of [...sockets, ...upgrading]) s.destroy();
        for (const client of wss.clients) client.terminate();
        wss.close();
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

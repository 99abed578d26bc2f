/**
 * A WebSocket-to-TCP relay so the Neon serverless driver (which speaks Postgres over a
 * WebSocket, as in production) can reach the local Postgres. Only the configured target is
 * ever dialled, whatever address the client asks for.
 */
import net from "node:net";
import { WebSocketServer } from "ws";

export interface PgRelay {
  port: number;
  /** Drops every relayed connection (fault tests). */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startPgRelay(target = { host: "127.0.0.1", port: 5432 }): Promise<PgRelay> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  const sockets = new Set<net.Socket>();
  wss.on("connection", (ws) => {
    const tcp = net.connect(target.port, target.host);
    sockets.add(tcp);
    tcp.setNoDelay(true);
    ws.on("message", (data: Buffer) => tcp.write(data));
    tcp.on("data", (chunk) => ws.send(chunk));
    const end = () => {
      sockets.delete(tcp);
      tcp.destroy();
      ws.terminate();
    };
    ws.on("close", end);
    ws.on("error", end);
    tcp.on("close", end);
    tcp.on("error", end);
  });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const address = wss.address();
  if (!address || typeof address === "string") throw new Error("unexpected relay address");
  return {
    port: address.port,
    dropAll: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}

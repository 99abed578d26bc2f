/**
 * A plain TCP relay in front of Postgres, so fault tests can cut node-postgres's connections the
 * way pg-relay.ts cuts the Neon driver's WebSockets. Only the configured target is dialled.
 */
import net from "node:net";

export interface TcpRelay {
  port: number;
  /** Drops every relayed connection (both sides), as a network cut would. */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startTcpRelay(target = { host: "127.0.0.1", port: 5432 }): Promise<TcpRelay> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on("close", () => sockets.delete(s));
    }
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("unexpected relay address");
  const dropAll = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    port: address.port,
    dropAll,
    close: () =>
      new Promise<void>((resolve) => {
        dropAll();
        server.close(() => resolve());
      }),
  };
}

/** `url` with its host and port replaced by the relay's. */
export function viaRelay(url: string, relay: TcpRelay): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(relay.port);
  return u.toString();
}

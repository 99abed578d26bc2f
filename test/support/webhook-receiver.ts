/**
 * A local HTTP endpoint for webhook tests (Node only): records every request (path, headers,
 * raw body) and answers as `respond` says: a status (with headers), or "hang" (never answers,
 * until the receiver stops). It can be stopped and started again on the same port, to play a
 * receiver that was down (starting a running receiver does nothing).
 */
import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export type Answer = { status: number; headers?: Record<string, string> } | "hang";

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port><path>`. */
  url(path?: string): string;
  readonly requests: ReceivedRequest[];
  /** How to answer each request (default 200). */
  respond: (req: ReceivedRequest) => Answer;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  let server: Server | undefined;
  let port = 0;
  const hanging = new Set<ServerResponse>();
  const receiver: WebhookReceiver = {
    url: (path = "/hook") => `http://127.0.0.1:${port}${path}`,
    requests: [],
    respond: () => ({ status: 200 }),
    async start() {
      if (server) return;
      server = createServer((req: IncomingMessage, res: ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
          const received = { path: req.url ?? "", headers, body: Buffer.concat(chunks).toString("utf8") };
          receiver.requests.push(received);
          const answer = receiver.respond(received);
          if (answer === "hang") {
            hanging.add(res);
            return;
          }
          res.writeHead(answer.status, answer.headers ?? {});
          res.end("ok");
        });
      });
      const listening = server;
      await new Promise<void>((resolve, reject) => {
        listening.once("error", reject);
        listening.listen(port, "127.0.0.1", resolve);
      });
      port = (server.address() as AddressInfo).port;
    },
    async stop() {
      for (const res of hanging) res.destroy();
      hanging.clear();
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
  await receiver.start();
  return receiver;
}

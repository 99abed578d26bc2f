/**
 * The limiter's Upstash REST client (functions/ratelimit/upstash-rest.ts) against a local HTTP
 * server that records what it receives: a turn's commands go out as one pipeline, answers and
 * per-command errors come back in order, a 5xx or a dropped connection is retried twice, a 4xx
 * is not. (The limiter against real Redis through the Upstash bridge is
 * test/node/ratelimit-upstash.test.ts.)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createUpstashRestClient, UpstashCommandError } from "../../functions/ratelimit/upstash-rest";

type Handler = (commands: unknown[][], req: IncomingMessage, res: ServerResponse) => void;

let server: Server | undefined;
const received: { path: string; auth: string | undefined; commands: unknown[][] }[] = [];

async function serve(handler: Handler): Promise<string> {
  received.length = 0;
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const commands = JSON.parse(body) as unknown[][];
      received.push({ path: req.url ?? "", auth: req.headers.authorization, commands });
      handler(commands, req, res);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

describe("Upstash REST client", () => {
  it("sends the commands of one turn as one pipeline and answers each in order", async () => {
    const url = await serve((commands, _req, res) =>
      json(
        res,
        200,
        commands.map((c) =>
          c[0] === "EVAL" ? { error: "ERR boom" } : { result: c[0] === "PING" ? "PONG" : [1, 2] },
        ),
      ),
    );
    const client = createUpstashRestClient({ url, token: "t0k", timeoutMs: 1000 });
    const answers = await Promise.allSettled([
      client.evalsha("abc", ["k1", "k2"], [5, "x", { a: 1 }]),
      client.eval("return 1", ["k"], []),
      client.ping(),
    ]);
    expect(received).toHaveLength(1);
    expect(received[0]).toEqual({
      path: "/pipeline",
      auth: "Bearer t0k",
      commands: [
        ["EVALSHA", "abc", 2, "k1", "k2", 5, "x", '{"a":1}'],
        ["EVAL", "return 1", 1, "k"],
        ["PING"],
      ],
    });
    expect(answers[0]).toEqual({ status: "fulfilled", value: [1, 2] });
    expect(answers[1]).toMatchObject({ status: "rejected", reason: new UpstashCommandError("ERR boom") });
    expect(answers[2]).toEqual({ status: "fulfilled", value: "PONG" });
    // A later turn is a request of its own.
    await client.ping();
    expect(received).toHaveLength(2);
  });

  it("retries a 5xx and a dropped connection twice, then fails", async () => {
    let calls = 0;
    const url = await serve((_commands, req, res) => {
      calls++;
      if (calls === 1) req.socket.destroy();
      else if (calls === 2) json(res, 502, { error: "bad gateway" });
      else json(res, 200, [{ result: "PONG" }]);
    });
    const client = createUpstashRestClient({ url, token: "t", timeoutMs: 1000 });
    await expect(client.ping()).resolves.toBe("PONG");
    expect(calls).toBe(3);

    calls = 0;
    const failing = await serve((_commands, _req, res) => {
      calls++;
      json(res, 503, { error: "down" });
    });
    const down = createUpstashRestClient({ url: failing, token: "t", timeoutMs: 1000 });
    await expect(down.ping()).rejects.toThrow("Upstash answered 503: down");
    expect(calls).toBe(3);
  });

  it("does not retry a 4xx (a wrong token)", async () => {
    const url = await serve((_commands, _req, res) => json(res, 401, { error: "Unauthorized" }));
    const client = createUpstashRestClient({ url, token: "wrong", timeoutMs: 1000 });
    await expect(client.evalsha("abc", [], [])).rejects.toBeInstanceOf(UpstashCommandError);
    expect(received).toHaveLength(1);
  });
});

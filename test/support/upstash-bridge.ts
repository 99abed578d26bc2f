/**
 * A tiny Upstash Redis REST server in front of a real Redis, so tests exercise @upstash/redis and
 * @upstash/ratelimit exactly as production does (HTTP, JSON, base64, pipelines, Lua) without a
 * cloud account. Only what those clients use is implemented.
 */
import { Buffer } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";

/** Redis used by tests unless told otherwise (REDIS_URL, else the local default port). */
export const DEFAULT_REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** Largest request body accepted; real Upstash allows more, tests never need it. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Commands that would change or block the one shared connection, breaking every other request. */
const UNSUPPORTED = new Set([
  "SUBSCRIBE",
  "PSUBSCRIBE",
  "MONITOR",
  "SELECT",
  "QUIT",
  "MULTI",
  "EXEC",
  "WATCH",
]);

export interface UpstashBridge {
  /** Base URL to give to `new Redis({ url })`. */
  url: string;
  /** Bearer token the bridge accepts. */
  token: string;
  /** Stops the server, drops open connections and disconnects from Redis. Idempotent. */
  close(): Promise<void>;
  /** Delays every answer by `ms` from now on (0 turns it off), to make the store "slow". */
  setLatency(ms: number): void;
  /** Counters of what went over the wire (a copy). */
  wire(): BridgeWire;
}

/** What the bridge was asked since it started. */
export interface BridgeWire {
  /** TCP connections accepted. */
  connections: number;
  /** HTTP requests (a pipeline is one). */
  requests: number;
  /**
   * Requests that found no other in flight: with one app request at a time, the rate-limit
   * round trips (requests sent together, before any answer, are one turn).
   */
  turns: number;
}

/**
 * Encodes a command result the way Upstash does under `Upstash-Encoding: base64`: every string,
 * also inside (nested) arrays, becomes base64 of its UTF-8 bytes; numbers and null pass through.
 * A top-level "OK" status stays as is, which is why @upstash/redis special-cases it when decoding.
 */
export function encodeResult(value: unknown, topLevel = true): unknown {
  if (typeof value === "string") {
    return topLevel && value === "OK" ? value : Buffer.from(value, "utf8").toString("base64");
  }
  // A Buffer is a Uint8Array; tested as such because @cloudflare/workers-types 5 declares the
  // global `Buffer` as `any`, so `Buffer.isBuffer` no longer narrows.
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map((v) => encodeResult(v, false));
  return value;
}

/**
 * Removes a leading `#!` line. @upstash/ratelimit scripts start with `#!lua flags=allow-key-locking`,
 * a flag Redis 7.0 refuses ("Unexpected flag in script shebang"). The newline is kept so Lua error
 * line numbers still match the original script.
 */
export function stripShebang(script: string): string {
  return script.startsWith("#!") ? script.replace(/^#![^\n]*/, "") : script;
}

/** Lowercase hex SHA-1, the digest Redis and @upstash/redis use to name scripts. */
export function sha1Hex(text: string): string {
  return createHash("sha1").update(text, "utf8").digest("hex");
}

/**
 * Turns a JSON argument into a Redis argument. @upstash/redis sends numbers as JSON numbers and
 * has already stringified objects; null (sent e.g. by the ratelimit reset script) becomes "".
 */
export function toRedisArg(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** A prepared command: what to send to Redis, and how to turn Redis' answer into Upstash's. */
interface Prepared {
  call: [string, ...string[]];
  mapResult?: (result: unknown) => unknown;
}

class BridgeReplyError extends Error {}

/**
 * Rewrites script commands. The client names a script by sha1 of its ORIGINAL text (with `#!`),
 * Redis by sha1 of the stripped text, so `shas` maps client sha → Redis sha. It is filled by EVAL
 * and SCRIPT LOAD; an EVALSHA for an unknown sha goes through unchanged and Redis answers NOSCRIPT,
 * upon which @upstash/ratelimit (and @upstash/redis' Script) fall back to EVAL with the full text.
 */
export function prepareCommand(raw: unknown, shas: Map<string, string>): Prepared {
  if (!Array.isArray(raw) || raw.length === 0 || typeof raw[0] !== "string") {
    throw new BridgeReplyError("ERR a command is a non-empty JSON array starting with its name");
  }
  const [name, ...args] = raw.map(toRedisArg) as [string, ...string[]];
  const upper = name.toUpperCase();
  if (UNSUPPORTED.has(upper)) throw new BridgeReplyError(`ERR ${upper} is not supported by the test bridge`);
  const register = (script: string): string => {
    const stripped = stripShebang(script);
    if (stripped !== script) shas.set(sha1Hex(script), sha1Hex(stripped));
    return stripped;
  };
  const toReal = (sha: string) => shas.get(sha.toLowerCase()) ?? sha;
  if ((upper === "EVAL" || upper === "EVAL_RO") && args.length > 0) {
    return { call: [name, register(args[0]!), ...args.slice(1)] };
  }
  if ((upper === "EVALSHA" || upper === "EVALSHA_RO") && args.length > 0) {
    return { call: [name, toReal(args[0]!), ...args.slice(1)] };
  }
  const sub = args[0]?.toUpperCase();
  if (upper === "SCRIPT" && sub === "LOAD" && args.length === 2) {
    const clientSha = sha1Hex(args[1]!);
    // Answer the sha the client computed itself, so its later EVALSHA finds the script.
    return { call: [name, "LOAD", register(args[1]!)], mapResult: () => clientSha };
  }
  if (upper === "SCRIPT" && sub === "EXISTS") {
    return { call: [name, "EXISTS", ...args.slice(1).map(toReal)] };
  }
  return { call: [name, ...args] };
}

type Reply = { result: unknown } | { error: string };

function isReplyError(error: unknown): error is Error {
  return error instanceof BridgeReplyError || (error instanceof Error && error.name === "ReplyError");
}

function replyFromError(error: unknown): Reply {
  if (isReplyError(error)) return { error: error.message };
  throw error; // connection trouble: the caller answers 500
}

async function runOne(redis: Redis, shas: Map<string, string>, raw: unknown): Promise<Reply> {
  try {
    const { call, mapResult } = prepareCommand(raw, shas);
    const [name, ...args] = call;
    const result = await redis.call(name, args);
    return { result: mapResult ? mapResult(result) : result };
  } catch (error) {
    return replyFromError(error);
  }
}

async function runTransaction(redis: Redis, shas: Map<string, string>, raws: unknown[]): Promise<Reply[]> {
  let prepared: Prepared[];
  try {
    prepared = raws.map((raw) => prepareCommand(raw, shas));
  } catch (error) {
    return [replyFromError(error)];
  }
  // multi([[name, ...args]]) only knows lowercase method names; call() takes any command.
  const tx = redis.multi();
  for (const { call } of prepared) tx.call(...call);
  const answers = await tx.exec();
  if (!answers) return [{ error: "EXECABORT Transaction discarded" }];
  return answers.map(([error, result], i) => {
    if (error) return replyFromError(error);
    const map = prepared[i]?.mapResult;
    return { result: map ? map(result) : result };
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BridgeReplyError("ERR request body too large");
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new BridgeReplyError("ERR request body is not valid JSON");
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  // The client gave up (its timeout) or we are closing: writing would only raise a stream error.
  if (res.destroyed || res.writableEnded || !res.socket || res.socket.destroyed) return;
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/**
 * Starts the bridge on 127.0.0.1 at a random port, connected to Redis at `redisUrl`. Rejects when
 * Redis cannot be reached. The token defaults to a random one.
 */
export async function startUpstashBridge(
  opts: {
    redisUrl?: string;
    token?: string;
    /**
     * One-way latency in ms between the client and the bridge (WAN mode of `npm run bench`): a
     * request is handled `delayMs` after it arrives and answered `delayMs` later, requests in
     * flight not waiting for each other; the first request on a new connection also pays the
     * TCP handshake (one round trip). Default 0.
     */
    delayMs?: number;
    /** Called when a turn starts (the bench attributes turns to requests by time). */
    onTurn?: () => void;
  } = {},
): Promise<UpstashBridge> {
  const delayMs = opts.delayMs ?? 0;
  const wire: BridgeWire = { connections: 0, requests: 0, turns: 0 };
  let inFlight = 0;
  const seenSockets = new WeakSet<object>();
  const token = opts.token ?? randomBytes(16).toString("hex");
  const redis = new Redis(opts.redisUrl ?? DEFAULT_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 1,
  });
  // Without a listener ioredis prints "Unhandled error event"; failures surface on the commands.
  redis.on("error", () => {});
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(`upstash bridge: cannot connect to Redis (${(error as Error).message})`);
  }

  const shas = new Map<string, string>();
  const delays = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  let latencyMs = 0;
  let closed = false;

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const entry = { timer: setTimeout(() => done(), ms), resolve: () => done() };
      const done = () => {
        clearTimeout(entry.timer);
        delays.delete(entry);
        resolve();
      };
      delays.add(entry);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    wire.requests++;
    if (inFlight++ === 0) {
      wire.turns++;
      opts.onTurn?.();
    }
    try {
      await answer(req, res);
    } finally {
      inFlight--;
    }
  };

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (delayMs > 0 && !closed) {
      // The request's way here; on a new connection the TCP handshake's round trip before it.
      const handshake = seenSockets.has(req.socket) ? 0 : 2 * delayMs;
      seenSockets.add(req.socket);
      await wait(handshake + delayMs);
    }
    if (req.headers.authorization !== `Bearer ${token}`) return send(res, 401, { error: "Unauthorized" });
    if (req.method !== "POST") return send(res, 405, { error: "ERR only POST is supported" });
    const path = (req.url ?? "/").split("?")[0];
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    const encode = (reply: Reply): Reply =>
      base64 && "result" in reply ? { result: encodeResult(reply.result) } : reply;
    let status = 200;
    let body: unknown;
    try {
      const json = await readJson(req);
      if (path === "/") {
        const reply = await runOne(redis, shas, json);
        status = "error" in reply ? 400 : 200; // Upstash answers a failed single command with 400
        body = encode(reply);
      } else if (path === "/pipeline" || path === "/multi-exec") {
        if (!Array.isArray(json)) throw new BridgeReplyError("ERR a pipeline is a JSON array of commands");
        const replies =
          path === "/pipeline"
            ? await Promise.all(json.map((cmd) => runOne(redis, shas, cmd))) // one connection keeps order
            : await runTransaction(redis, shas, json);
        body = replies.map(encode);
      } else {
        status = 404;
        body = { error: "ERR unknown endpoint" };
      }
    } catch (error) {
      status = isReplyError(error) ? 400 : 500;
      body = { error: isReplyError(error) ? error.message : `ERR bridge: ${(error as Error).message}` };
    }
    if (latencyMs > 0 && !closed) await wait(latencyMs);
    if (delayMs > 0 && !closed) await wait(delayMs); // the answer's way back
    send(res, status, body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, { error: "ERR bridge failure" }));
  });
  server.on("connection", () => wire.connections++);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token,
    setLatency(ms: number) {
      latencyMs = Math.max(0, ms);
    },
    wire: () => ({ ...wire }),
    async close() {
      if (closed) return;
      closed = true;
      for (const entry of [...delays]) entry.resolve(); // delayed answers go nowhere: sockets close below
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // keep-alive sockets from fetch would hold close() open
      });
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** True when Redis at `url` answers PING within `timeoutMs` (used to skip or fail service tests). */
export async function redisAvailable(url = DEFAULT_REDIS_URL, timeoutMs = 1_000): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

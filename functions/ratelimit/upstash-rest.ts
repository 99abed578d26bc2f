/**
 * The three Redis commands the rate limiter sends to Upstash (EVALSHA, EVAL, PING), over
 * Upstash's REST API: `POST <url>/pipeline` with a JSON array of commands and a bearer token,
 * answered by one `{ result }` or `{ error }` per command, in order.
 *
 * Why not @upstash/redis: its client carries every Redis command as a class (≈ 22 KiB gzip of
 * the Worker bundle, which is start-up time), and @upstash/ratelimit's sliding window calls only
 * `evalsha` and, when the script is not cached yet, `eval` (its `safeEval`). This client has
 * the part of @upstash/redis the limiter relied on: commands issued within one turn of the
 * event loop go out as ONE pipeline request (what its auto-pipelining did), so a request's
 * checks cost one round trip; a failed fetch is retried twice (50 then 100 ms apart); each
 * fetch is aborted at the caller's deadline. Values are sent and read as plain JSON (no
 * `Upstash-Encoding`): the limiter's scripts take and return numbers only.
 */

/** What @upstash/ratelimit and the limiter's readiness check call on their Redis client. */
export interface UpstashScriptClient {
  evalsha(sha: string, keys: string[], args: unknown[]): Promise<unknown>;
  eval(script: string, keys: string[], args: unknown[]): Promise<unknown>;
  ping(): Promise<unknown>;
}

export interface UpstashRestOptions {
  /** UPSTASH_REDIS_REST_URL. */
  url: string;
  /** UPSTASH_REDIS_REST_TOKEN. */
  token: string;
  /** A fetch is aborted after this long (the limiter's deadline). */
  timeoutMs: number;
  /** Retries of a fetch that failed (network error or a 5xx); default 2. */
  retries?: number;
}

/** Upstash answered the command with an error (e.g. NOSCRIPT, which the limiter answers with EVAL). */
export class UpstashCommandError extends Error {
  override name = "UpstashCommandError";
}

type Command = (string | number)[];
interface Queued {
  command: Command;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A JSON argument as Upstash takes it: strings and numbers as they are, anything else as JSON. */
function arg(value: unknown): string | number {
  return typeof value === "string" || typeof value === "number" ? value : JSON.stringify(value ?? null);
}

export function createUpstashRestClient(opts: UpstashRestOptions): UpstashScriptClient {
  const endpoint = `${opts.url.replace(/\/+$/, "")}/pipeline`;
  const retries = opts.retries ?? 2;
  let queue: Queued[] = [];

  /** Sends one pipeline (retrying a failed fetch) and returns Upstash's per-command answers. */
  async function post(commands: Command[]): Promise<({ result: unknown } | { error: string })[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(endpoint, {
          method: "POST",
          headers: { authorization: `Bearer ${opts.token}`, "content-type": "application/json" },
          body: JSON.stringify(commands),
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
        const body: unknown = await res.json().catch(() => null);
        // A 4xx (a wrong token, a refused request) will not get better by asking again.
        if (res.status >= 500 && attempt < retries) throw new Error(`Upstash answered ${res.status}`);
        if (!res.ok || !Array.isArray(body) || body.length !== commands.length) {
          const message = (body as { error?: unknown } | null)?.error;
          throw new UpstashCommandError(
            `Upstash answered ${res.status}${message ? `: ${String(message)}` : ""}`,
          );
        }
        return body;
      } catch (error) {
        if (error instanceof UpstashCommandError || attempt >= retries) throw error;
        await sleep(50 * 2 ** attempt);
      }
    }
  }

  /** Sends what was queued in this turn of the event loop as one pipeline. */
  async function flush(): Promise<void> {
    const batch = queue;
    queue = [];
    try {
      const answers = await post(batch.map((q) => q.command));
      batch.forEach((q, i) => {
        const answer = answers[i] as { result?: unknown; error?: unknown };
        if (answer && "error" in answer && answer.error !== undefined) {
          q.reject(new UpstashCommandError(String(answer.error)));
        } else q.resolve(answer?.result ?? null);
      });
    } catch (error) {
      for (const q of batch) q.reject(error);
    }
  }

  function send(command: Command): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // The first command of a turn schedules the send after the turn's other commands: the
      // limiter issues a request's checks from one Promise.all, a few microtasks apart.
      if (queue.length === 0) setTimeout(() => void flush(), 0);
      queue.push({ command, resolve, reject });
    });
  }

  const script = (name: "EVALSHA" | "EVAL", body: string, keys: string[], args: unknown[]) =>
    send([name, body, keys.length, ...keys, ...args.map(arg)]);
  return {
    evalsha: (sha, keys, args) => script("EVALSHA", sha, keys, args),
    eval: (text, keys, args) => script("EVAL", text, keys, args),
    ping: () => send(["PING"]),
  };
}

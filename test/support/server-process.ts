/**
 * Runs a TypeScript Node script (bench/server.ts, bench/sidecar.ts) as a child process and follows
 * the JSON lines it prints, for the benchmark and the multi-process tests. The child runs under
 * the tsx loader, so it is one process with one pid: stopping it leaves nothing behind.
 */
import type { Buffer } from "node:buffer";
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The repository root (scripts are given relative to it). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export type JsonLine = Record<string, unknown>;

export interface ChildScript {
  /** The process id (for the report; stop() is how to end it). */
  pid: number;
  /** The first line with `msg: "listening"` (ports, URLs, database name). */
  ready: JsonLine;
  /** Calls `listener` for every later JSON line on stdout; returns an unsubscribe function. */
  onLine(listener: (line: JsonLine) => void): () => void;
  /** The last stderr output and non-JSON stdout (for failure messages). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /** Path relative to the repository root. */
  script: string;
  /** Added to the parent's environment. */
  env?: Record<string, string>;
  /** How long the child may take to print its "listening" line. */
  timeoutMs?: number;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Starts the script and resolves once it has announced itself with a "listening" line. */
export async function startScript(opts: StartOptions): Promise<ChildScript> {
  const child = spawn(process.execPath, ["--import", "tsx", opts.script], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const listeners = new Set<(line: JsonLine) => void>();
  let tail = "";
  const remember = (text: string) => {
    tail = (tail + text).slice(-8_000);
  };
  child.stderr?.on("data", (chunk: Buffer) => remember(chunk.toString()));
  // Reading every line promptly matters: a full stdout pipe would block the child's event loop.
  const lines = createInterface({ input: child.stdout! });
  let announce: ((line: JsonLine) => void) | undefined;
  lines.on("line", (text) => {
    let line: JsonLine;
    try {
      line = JSON.parse(text) as JsonLine;
    } catch {
      remember(`${text}\n`);
      return;
    }
    if (announce && line.msg === "listening") {
      announce(line);
      announce = undefined;
      return;
    }
    for (const listener of listeners) listener(line);
  });

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5_000) => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited(child);
      clearTimeout(timer);
    })();
    return stopping;
  };

  const timeoutMs = opts.timeoutMs ?? 30_000;
  const ready = await new Promise<JsonLine>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`${opts.script} did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      void stop(1_000).then(() => reject(new Error(`${error.message}\n${tail}`)));
    };
    const early = (code: number | null, signal: string | null) =>
      fail(new Error(`${opts.script} exited early (${code ?? signal})`));
    announce = (line) => {
      clearTimeout(timer);
      child.off("exit", early);
      child.off("error", fail);
      resolve(line);
    };
    child.once("exit", early);
    child.once("error", fail);
  });

  return {
    pid: child.pid ?? -1,
    ready,
    onLine(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    output: () => tail,
    stop,
  };
}

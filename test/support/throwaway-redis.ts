/**
 * A redis-server of the test's own on a free loopback port, without persistence, that a fault test
 * may kill and restart. The machine's shared Redis (other tests use it) is never touched.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { freePort } from "./ports";
import { redisAvailable } from "./upstash-bridge";

export interface ThrowawayRedis {
  port: number;
  url: string;
  /** Kills the server abruptly (SIGKILL, as a crash or a lost host would) and waits for its exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: nothing was persisted) and waits until it answers. */
  restart(): Promise<void>;
  /** Kills it if running. Idempotent; call in afterAll. */
  stop(): Promise<void>;
}

/** True when the `redis-server` binary can be run. */
export function redisServerInstalled(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function untilAnswers(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await redisAvailable(url, 500))) {
    if (Date.now() > deadline)
      throw new Error(`throwaway redis at ${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts a throwaway redis-server and resolves once it answers PING. */
export async function startThrowawayRedis(timeoutMs = 10_000): Promise<ThrowawayRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const launch = async () => {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    child = spawn("redis-server", args, { stdio: "ignore" });
    child.on("error", () => {}); // surfaces as "did not answer" below
    await untilAnswers(url, timeoutMs);
  };
  const kill = async () => {
    if (!child) return;
    const running = child;
    child = undefined;
    running.kill("SIGKILL");
    await exited(running);
  };
  await launch();
  return { port, url, kill, restart: launch, stop: kill };
}

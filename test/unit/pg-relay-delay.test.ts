/**
 * The WAN delay of the test relay (test/support/pg-relay.ts, on test/support/delay-line.ts):
 * messages keep their order, arrive exactly one delay after they were sent (never before, and
 * not queued behind each other), and a new connection opens only after its handshakes. Time is a
 * manual clock: nothing here depends on how fast the machine is.
 */
import { Buffer } from "node:buffer";
import net from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { delayLine, type Scheduler } from "../support/delay-line";
import { CONNECT_ROUND_TRIPS, type PgRelay, startPgRelay } from "../support/pg-relay";

/** A clock that moves only when told to, running the timers that fall due on the way, in order. */
function manualClock() {
  let now = 0;
  let ids = 0;
  const timers = new Map<number, { due: number; run: () => void }>();
  const scheduler: Scheduler = {
    now: () => now,
    setTimeout: (run, ms) => {
      timers.set(++ids, { due: now + ms, run });
      return ids;
    },
    clearTimeout: (id) => void timers.delete(id as number),
  };
  const advance = (ms: number) => {
    const target = now + ms;
    for (;;) {
      const next = [...timers]
        .filter(([, t]) => t.due <= target)
        .sort((a, b) => a[1].due - b[1].due || a[0] - b[0])[0];
      if (!next) break;
      timers.delete(next[0]);
      now = next[1].due;
      next[1].run();
    }
    now = target;
  };
  return { scheduler, advance, pending: () => timers.size };
}

describe("delayLine", () => {
  it("delivers each item once, in order, exactly the delay after it was pushed, without queueing", () => {
    const clock = manualClock();
    const got: string[] = [];
    const line = delayLine<string>(25, (item) => got.push(item), clock.scheduler);
    line.push("a");
    line.push("b");
    clock.advance(10);
    line.push("c");
    clock.advance(14); // t = 24
    expect(got).toEqual([]);
    clock.advance(1); // t = 25: a and b are due, c (pushed at 10) is not
    expect(got).toEqual(["a", "b"]);
    clock.advance(9); // t = 34
    expect(got).toEqual(["a", "b"]);
    clock.advance(1); // t = 35: c, 25 after it was pushed, not 25 after a's delivery
    expect(got).toEqual(["a", "b", "c"]);
    clock.advance(1_000);
    expect(got).toEqual(["a", "b", "c"]);
    expect(clock.pending()).toBe(0);
  });

  it("delivers at once, synchronously, with no delay", () => {
    const got: number[] = [];
    const line = delayLine<number>(0, (item) => got.push(item));
    line.push(1);
    line.push(2);
    expect(got).toEqual([1, 2]);
  });

  it("drops what is in flight when cleared", () => {
    const clock = manualClock();
    const got: string[] = [];
    const line = delayLine<string>(25, (item) => got.push(item), clock.scheduler);
    line.push("lost");
    line.clear();
    clock.advance(100);
    expect(got).toEqual([]);
    expect(clock.pending()).toBe(0);
  });
});

describe("startPgRelay with delayMs", () => {
  const DELAY = 25;
  let relay: PgRelay | undefined;
  let echo: net.Server | undefined;
  let client: WebSocket | undefined;

  afterEach(async () => {
    client?.terminate();
    await relay?.close();
    await new Promise<void>((resolve) => (echo ? echo.close(() => resolve()) : resolve()));
    relay = echo = client = undefined;
  });

  it("opens after the handshakes and delays every message once each way, in order", async () => {
    // The "database": echoes what it receives, and remembers it.
    const received: string[] = [];
    echo = net.createServer((socket) =>
      socket.on("data", (chunk) => {
        received.push(chunk.toString());
        socket.write(chunk);
      }),
    );
    await new Promise<void>((resolve) => echo!.listen(0, "127.0.0.1", () => resolve()));
    const target = { host: "127.0.0.1", port: (echo.address() as net.AddressInfo).port };
    const clock = manualClock();
    relay = await startPgRelay(target, { delayMs: DELAY, scheduler: clock.scheduler });

    client = new WebSocket(`ws://127.0.0.1:${relay.port}/v1`);
    const answers: string[] = [];
    client.on("message", (data: Buffer) => answers.push(data.toString()));
    let open = false;
    const opened = new Promise<void>((resolve) => client!.once("open", () => resolve()));
    void opened.then(() => (open = true));

    // The upgrade request has reached the relay: it waits for the handshakes' round trips.
    await vi.waitFor(() => expect(clock.pending()).toBe(1));
    clock.advance(2 * CONNECT_ROUND_TRIPS * DELAY - 1);
    await new Promise((resolve) => setTimeout(resolve, 20)); // real I/O would have had its chance
    expect(open).toBe(false);
    expect(relay.wire().connections).toBe(0);
    clock.advance(1);
    await opened;
    expect(relay.wire().connections).toBe(1);

    // a at t0, b 10 ms later: each reaches the database 25 ms after it was sent.
    client.send("a");
    await vi.waitFor(() => expect(relay!.wire().messagesIn).toBe(1));
    clock.advance(10);
    client.send("b");
    await vi.waitFor(() => expect(relay!.wire().messagesIn).toBe(2));
    clock.advance(14); // t0 + 24
    expect(received).toEqual([]); // the relay writes to the database only from a due timer
    clock.advance(1); // t0 + 25: a only
    await vi.waitFor(() => expect(received.join("")).toBe("a"));

    // The echo of a is back at the relay (t0 + 25): the client gets it 25 ms later, not before.
    await vi.waitFor(() => expect(relay!.wire().messagesOut).toBe(1));
    clock.advance(9); // t0 + 34
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received).toEqual(["a"]);
    clock.advance(1); // t0 + 35: b, sent at t0 + 10
    await vi.waitFor(() => expect(received.join("")).toBe("ab"));
    await vi.waitFor(() => expect(relay!.wire().messagesOut).toBe(2));
    clock.advance(14); // t0 + 49
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(answers).toEqual([]);
    clock.advance(1); // t0 + 50: a's answer (back at the relay at t0 + 25)
    await vi.waitFor(() => expect(answers).toEqual(["a"]));
    clock.advance(9); // t0 + 59
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(answers).toEqual(["a"]);
    clock.advance(1); // t0 + 60: b's answer (back at the relay at t0 + 35)
    await vi.waitFor(() => expect(answers).toEqual(["a", "b"]));

    // a and b went out before any answer: one turn. A message after the answers: a second one.
    expect(relay.wire().turns).toBe(1);
    client.send("c");
    await vi.waitFor(() => expect(relay!.wire().messagesIn).toBe(3));
    expect(relay.wire().turns).toBe(2);
    clock.advance(DELAY);
    await vi.waitFor(() => expect(received.join("")).toBe("abc"));
    await vi.waitFor(() => expect(relay!.wire().messagesOut).toBe(3));
    clock.advance(DELAY);
    await vi.waitFor(() => expect(answers).toEqual(["a", "b", "c"]));
    expect(received.join("")).toBe("abc"); // each message delivered once

    // A Terminate gets no answer: it is no turn, and the next message after it still is one.
    const terminate = Buffer.from([0x58, 0, 0, 0, 4]);
    client.send(terminate);
    await vi.waitFor(() => expect(relay!.wire().messagesIn).toBe(4));
    expect(relay.wire().turns).toBe(2);
    client.send("d");
    await vi.waitFor(() => expect(relay!.wire().messagesIn).toBe(5));
    expect(relay.wire().turns).toBe(3);
  });
});

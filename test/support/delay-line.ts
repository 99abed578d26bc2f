/**
 * A one-way network delay for the test stand-ins (WAN mode of `npm run bench`): every item is
 * delivered `delayMs` after it was pushed, in the order pushed. It is a pipe with latency, not a
 * slow link: items in flight do not wait for each other, so two items pushed 1 ms apart arrive
 * 1 ms apart. With a delay of 0 items are delivered at once, synchronously.
 */

/** The clock and timer the line runs on (tests inject a fake one). */
export interface Scheduler {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realScheduler: Scheduler = {
  now: () => performance.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface DelayLine<T> {
  push(item: T): void;
  /** Drops what is still in flight (the connection is gone). */
  clear(): void;
}

export function delayLine<T>(
  delayMs: number,
  deliver: (item: T) => void,
  scheduler: Scheduler = realScheduler,
): DelayLine<T> {
  const queue: { due: number; item: T }[] = [];
  let timer: unknown;
  // One timer, for the head of the queue: items share one delay, so due times never decrease
  // and delivering from the head keeps the order, whatever order the timers would fire in.
  const arm = () => {
    const head = queue[0];
    if (!head || timer !== undefined) return;
    timer = scheduler.setTimeout(
      () => {
        timer = undefined;
        const now = scheduler.now();
        while (queue.length > 0 && queue[0]!.due <= now) deliver(queue.shift()!.item);
        arm();
      },
      Math.max(0, head.due - scheduler.now()),
    );
  };
  return {
    push(item) {
      if (delayMs <= 0) return deliver(item);
      queue.push({ due: scheduler.now() + delayMs, item });
      arm();
    },
    clear() {
      queue.length = 0;
      if (timer !== undefined) scheduler.clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** Resolves after `ms` on `scheduler` (at once for 0). */
export function sleep(ms: number, scheduler: Scheduler = realScheduler): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => scheduler.setTimeout(resolve, ms));
}

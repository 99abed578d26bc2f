/**
 * Which tenant events the current request wrote, so their webhook deliveries can be attempted
 * right after its response (the same scheme as functions/outbox/queued.ts for mail: the
 * security-event store notes an event id as it builds the insert; the request-context
 * middleware collects them and dispatches after the response). An id whose batch rolled back,
 * or whose tenant has no subscribed webhook, simply finds no delivery to send.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const eventsInRequest = new AsyncLocalStorage<Set<string>>();

/** Runs `run` with `ids` as the set that tenant events written inside it are added to. */
export function collectWebhookEvents<T>(ids: Set<string>, run: () => T): T {
  return eventsInRequest.run(ids, run);
}

/** Notes that tenant event `id` is being written by the current request (if any). */
export function noteWebhookEvent(id: string): void {
  eventsInRequest.getStore()?.add(id);
}

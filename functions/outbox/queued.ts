/**
 * Which outbox messages the current request queued, so they can be sent right after its
 * response. The outbox store's insert helpers note each message id as they build the insert;
 * the request-context middleware runs the request inside `collectQueuedMessages` and, after
 * the response, dispatches the ids it collected (functions/outbox/after-response.ts). Flows
 * need not do anything: queuing a message is enough.
 *
 * The set is carried by AsyncLocalStorage (Node; workerd with `nodejs_compat`), so concurrent
 * requests never see each other's ids. An id is noted when its statement is built, not when it
 * commits: a batch that rolled back (or an insert that wrote nothing, as `forgot` for an
 * unknown address) leaves an id no row has, and dispatching it finds nothing to send.
 * Outside a request (scripts, tests calling stores directly) nothing is collected.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const queuedInRequest = new AsyncLocalStorage<Set<string>>();

/** Runs `run` with `ids` as the set that messages queued inside it are added to. */
export function collectQueuedMessages<T>(ids: Set<string>, run: () => T): T {
  return queuedInRequest.run(ids, run);
}

/** Notes that message `id` is being queued by the current request (if any). */
export function noteQueuedMessage(id: string): void {
  queuedInRequest.getStore()?.add(id);
}

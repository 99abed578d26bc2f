import type { Context, MiddlewareHandler } from "hono";
import type { AppDeps, AppEnv, RequestScope, Vault } from "../context";
import { networkOf } from "../lib/network";
import { dispatchDue } from "../outbox/dispatch";
import { collectQueuedMessages } from "../outbox/queued";
import { countRoundTrips } from "../ratelimit/types";
import { dispatchWebhooks } from "../webhooks/dispatch";
import { collectWebhookEvents } from "../webhooks/queued";

/** The contract's request id alphabet (Hono's requestId middleware allows a different set). */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Picks the client IP. X-Forwarded-For is honoured only with trusted proxies configured, and
 * then only the entry written by the outermost trusted proxy: entries further left are
 * whatever the client sent, and trusting them would let a client mint fresh rate-limit buckets.
 */
export function resolveClientIp(c: Context, deps: AppDeps): string | null {
  const hops = deps.config.trustedProxyHops;
  if (hops > 0) {
    const chain = (c.req.header("x-forwarded-for") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const candidate = chain[chain.length - hops];
    if (candidate) return candidate;
  }
  return deps.clientIp(c);
}

/**
 * First middleware of every request: builds the request scope once (request id, request time,
 * the client's hashed identity, the request's database and rate limiter) and writes one
 * structured log line at the end. The log
 * line holds the route pattern (never the raw URL, whose query may carry an email), status
 * and duration: no IP, user agent, token or body.
 *
 * After the response it runs the request's after-response work: first the sending of the
 * outbox messages the request queued (collected by functions/outbox/queued.ts; with
 * `deps.mailTransport`), then the tasks given to `scope.afterResponse`, then the webhook
 * deliveries of the tenant events it wrote (functions/webhooks/queued.ts), one after another,
 * and then closes the request's database. None of it delays the response: on Workers it is handed
 * to `executionCtx.waitUntil`, elsewhere it runs in the background (given to `deps.defer` when
 * set). A failure is logged by its error name; a message that could not be sent stays in the
 * outbox for the periodic pass (functions/outbox/periodic.ts).
 */
export function requestContext(deps: AppDeps, vault: Vault): MiddlewareHandler<AppEnv> {
  const { hash } = vault;
  const now = deps.now ?? Date.now;
  const log = deps.log ?? ((line) => console.log(JSON.stringify(line)));
  return async function requestContext(c, next) {
    const started = Date.now();
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", requestId);

    const ip = resolveClientIp(c, deps);
    const userAgent = c.req.header("user-agent") ?? null;
    let hashes: Promise<{ ipHash: string | null; userAgentHash: string | null }> | undefined;
    const client = {
      ip,
      network: networkOf(ip),
      userAgent,
      hashes: () => {
        hashes ??= Promise.all([ip ? hash.ip(ip) : null, userAgent ? hash.userAgent(userAgent) : null]).then(
          ([ipHash, userAgentHash]) => ({ ipHash, userAgentHash }),
        );
        return hashes;
      },
    };

    const db = deps.database(c);
    const tasks: (() => Promise<unknown>)[] = [];
    const scope: RequestScope = {
      requestId,
      config: deps.config,
      vault,
      db,
      limiter: countRoundTrips(deps.rateLimiter(db)),
      now: new Date(now()),
      client,
      log,
      afterResponse: (task) => {
        tasks.push(task);
      },
    };
    c.set("scope", scope);
    const queued = new Set<string>();
    const tenantEvents = new Set<string>();
    try {
      await collectQueuedMessages(queued, () => collectWebhookEvents(tenantEvents, next));
    } finally {
      // What the response waited for, taken before the after-response work (a refund) starts.
      const cost = {
        statements: db.stats.statements,
        roundTrips: db.stats.roundTrips,
        limiterRoundTrips: scope.limiter.stats.roundTrips,
      };
      c.res.headers.set("X-Request-Id", requestId);
      const transport = deps.mailTransport;
      if (queued.size > 0 && transport) {
        tasks.unshift(async () => {
          const sent = await dispatchDue(db, {
            transport,
            box: vault.box,
            config: deps.config,
            now: () => new Date(now()),
            ids: [...queued],
            log: (line) => log({ ...line, requestId }),
          });
          log({ level: "info", msg: "outbox dispatch", requestId, ...sent });
        });
      }
      if (tenantEvents.size > 0) {
        // The webhook deliveries of the tenant events the request wrote (if any subscribe).
        tasks.push(async () => {
          const sent = await dispatchWebhooks(db, {
            box: vault.box,
            config: deps.config,
            now: () => new Date(now()),
            eventIds: [...tenantEvents],
            resolveHost: deps.resolveHost,
            log: (line) => log({ ...line, requestId }),
          });
          if (sent.delivered + sent.retried + sent.failed > 0) {
            log({ level: "info", msg: "webhook dispatch", requestId, ...sent });
          }
        });
      }
      if (tasks.length === 0) {
        const closing = db.close().catch(() => {});
        try {
          // Workers: end the request's pool after the response is sent.
          c.executionCtx.waitUntil(closing);
        } catch {
          await closing;
        }
      } else {
        const work = runAfterResponse(tasks, requestId, log).then(() => db.close().catch(() => {}));
        try {
          c.executionCtx.waitUntil(work);
        } catch {
          // No ExecutionContext (Node, Lambda, app.request): not awaited, the answer goes now.
          deps.defer?.(work);
        }
      }
      log({
        level: "info",
        msg: "request",
        requestId,
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        durationMs: Date.now() - started,
        ...cost,
      });
    }
  };
}

/** Runs after-response tasks one after another (one database handle); never rejects. */
async function runAfterResponse(
  tasks: (() => Promise<unknown>)[],
  requestId: string,
  log: (line: Record<string, unknown>) => void,
): Promise<void> {
  for (const task of tasks) {
    try {
      await task();
    } catch (error) {
      log({
        level: "error",
        msg: "after-response task failed",
        requestId,
        error: error instanceof Error ? error.name : typeof error,
      });
    }
  }
}

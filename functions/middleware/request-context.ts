import type { Context, MiddlewareHandler } from "hono";
import type { AppDeps, AppEnv, RequestScope, Vault } from "../context";
import { networkOf } from "../lib/network";

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
    const scope: RequestScope = {
      requestId,
      config: deps.config,
      vault,
      db,
      limiter: deps.rateLimiter(db),
      now: new Date(now()),
      client,
      log,
    };
    c.set("scope", scope);
    try {
      await next();
    } finally {
      c.res.headers.set("X-Request-Id", requestId);
      const closing = db.close().catch(() => {});
      try {
        // Workers: end the request's pool after the response is sent.
        c.executionCtx.waitUntil(closing);
      } catch {
        await closing;
      }
      log({
        level: "info",
        msg: "request",
        requestId,
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        durationMs: Date.now() - started,
        statements: db.stats.statements,
      });
    }
  };
}

import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../context";
import { RateLimitUnavailableError } from "../ratelimit/types";
import { ApiError, type ProblemCode, problemResponse } from "./problems";

// Postgres SQLSTATE classes/codes and socket errors that mean "the database is not reachable
// right now" rather than "this request is wrong": 08xxx connection exceptions, 57P0x
// shutdown/terminated (pg_terminate_backend), 53300 too many connections.
const UNAVAILABLE_CODES =
  /^(08...|57P0[123]|53300|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN)$/;
// "… is not queryable": pg's answer to a statement sent on a client whose connection has just
// died, e.g. the ROLLBACK a transaction sends after its connection was killed mid-statement.
const UNAVAILABLE_MESSAGES =
  /connection terminated|connection refused|connection closed|terminating connection|not queryable|websocket|socket hang up|fetch failed|network|timeout exceeded when trying to connect|D1_ERROR: (?:Network|internal)/i;

/** Walks an error and its causes looking for a sign that a dependency is down. */
export function isDependencyUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    if (typeof e !== "object") break;
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === "string" && UNAVAILABLE_CODES.test(code)) return true;
    if (typeof message === "string" && UNAVAILABLE_MESSAGES.test(message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

const HTTP_STATUS_CODES: Record<number, ProblemCode> = {
  400: "invalid_request",
  401: "unauthorized",
  404: "not_found",
  413: "payload_too_large",
  415: "unsupported_media_type",
};

/**
 * The one error handler. Expected failures (ApiError) become their problem document;
 * a store or database that is down becomes 503; anything else is a bug: logged by name and
 * code only (driver messages can quote SQL parameters, which may be hashes or tokens) and
 * answered 500 without detail.
 */
export function errorHandler(log: (line: Record<string, unknown>) => void): ErrorHandler<AppEnv> {
  return (err, c) => {
    const requestId = c.get("requestId") ?? crypto.randomUUID();
    if (err instanceof ApiError) {
      const { errors, headers, members } = err.extra;
      return problemResponse(err.code, requestId, {
        ...(err.detail ? { detail: err.detail } : {}),
        ...(errors ? { errors } : {}),
        ...(headers ? { headers } : {}),
        ...(members ? { members } : {}),
      });
    }
    if (err instanceof RateLimitUnavailableError) {
      log({ level: "warn", msg: "rate limit store unavailable", requestId });
      return problemResponse("rate_limit_unavailable", requestId);
    }
    if (err instanceof HTTPException) {
      return problemResponse(HTTP_STATUS_CODES[err.status] ?? "invalid_request", requestId);
    }
    const cause = err as { name?: string; code?: unknown; cause?: { name?: string; code?: unknown } };
    const fields = {
      requestId,
      error: cause.name,
      code: typeof cause.code === "string" ? cause.code : undefined,
      cause: cause.cause?.name,
      causeCode: typeof cause.cause?.code === "string" ? cause.cause.code : undefined,
    };
    if (isDependencyUnavailable(err)) {
      log({ level: "warn", msg: "dependency unavailable", ...fields });
      return problemResponse("service_unavailable", requestId);
    }
    log({ level: "error", msg: "unhandled error", ...fields });
    return problemResponse("internal_error", requestId);
  };
}

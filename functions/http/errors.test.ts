import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../context";
import { RateLimitUnavailableError } from "../ratelimit/types";
import { errorHandler, isDependencyUnavailable } from "./errors";
import { ApiError } from "./problems";

const SECRET = "sk_live_7f3a9c-do-not-log";

/** An error shaped like node-postgres' DatabaseError. */
function pgError(code: string, message = `duplicate key (token)=(${SECRET})`) {
  return Object.assign(new Error(message), { name: "DatabaseError", code });
}

/** Answers one request whose handler throws `err`; returns the response and the log lines. */
async function answer(err: unknown) {
  const lines: Record<string, unknown>[] = [];
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set("requestId", "req-123");
    await next();
  });
  app.get("/", () => {
    throw err;
  });
  app.onError(errorHandler((line) => lines.push(line)));
  const res = await app.request("/");
  const text = await res.text();
  return { res, body: JSON.parse(text) as Record<string, unknown>, text, lines };
}

describe("errorHandler", () => {
  it("turns an ApiError into its problem document, with errors and extra headers", async () => {
    const errors = [{ path: "items.0.channel", message: "Invalid option" }];
    const { res, body, lines } = await answer(
      new ApiError("rate_limited", "Slow down.", { errors, headers: { "Retry-After": "30" } }),
    );
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("retry-after")).toBe("30");
    expect(res.headers.get("x-request-id")).toBe("req-123");
    expect(body).toEqual({
      type: "urn:problem-type:rate_limited",
      title: "Too many requests",
      status: 429,
      code: "rate_limited",
      detail: "Slow down.",
      requestId: "req-123",
      errors,
    });
    expect(lines).toEqual([]);
  });

  it("answers 503 rate_limit_unavailable when the rate-limit store is down", async () => {
    const { res, body } = await answer(new RateLimitUnavailableError("upstash timed out"));
    expect([res.status, body.code]).toEqual([503, "rate_limit_unavailable"]);
  });

  it("answers 503 service_unavailable when a dependency is down, logging name and code", async () => {
    const { res, body, text, lines } = await answer(pgError("57P01", `terminating connection ${SECRET}`));
    expect([res.status, body.code]).toEqual([503, "service_unavailable"]);
    expect(lines).toEqual([
      expect.objectContaining({ level: "warn", error: "DatabaseError", code: "57P01" }),
    ]);
    expect(text + JSON.stringify(lines)).not.toContain(SECRET);
  });

  it("answers anything else with a bare 500 and never logs or returns the message", async () => {
    const { res, body, text, lines } = await answer(pgError("23505"));
    expect(res.status).toBe(500);
    expect(body).toEqual({
      type: "urn:problem-type:internal_error",
      title: "Internal error",
      status: 500,
      code: "internal_error",
      requestId: "req-123",
    });
    expect(lines).toEqual([
      expect.objectContaining({
        level: "error",
        requestId: "req-123",
        error: "DatabaseError",
        code: "23505",
      }),
    ]);
    expect(text + JSON.stringify(lines)).not.toContain(SECRET);
  });
});

describe("isDependencyUnavailable", () => {
  it.each([
    ["SQLSTATE 08006 (connection failure)", pgError("08006")],
    ["SQLSTATE 57P01 (admin shutdown)", pgError("57P01")],
    ["ECONNREFUSED", Object.assign(new Error("connect failed"), { code: "ECONNREFUSED" })],
    ['"Connection terminated"', new Error("Connection terminated unexpectedly")],
    ["a cause chain", new Error("query failed", { cause: new Error("x", { cause: pgError("08006") }) })],
  ])("is true for %s", (_, err) => expect(isDependencyUnavailable(err)).toBe(true));

  it.each([
    ["a unique violation", pgError("23505")],
    ["a code that only starts like one", pgError("080061")],
    ["a plain bug", new TypeError("cannot read properties of undefined")],
    ["a non-error", "Connection terminated"],
    ["nothing", undefined],
  ])("is false for %s", (_, err) => expect(isDependencyUnavailable(err)).toBe(false));
});

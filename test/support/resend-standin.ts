/**
 * A local stand-in for Resend's email API (node:http on 127.0.0.1, a port the OS picks), for
 * the Resend transport's tests. It answers as Resend documents
 * (https://resend.com/docs/api-reference/emails/send-email, /errors):
 * - POST /emails with `Authorization: Bearer <key>` and a JSON body
 *   `{ from, to: string | string[], subject, text?, html? }` → 200 `{ id }`;
 * - no bearer token → 401 `missing_api_key`; another key → 403 `invalid_api_key`;
 * - a body that is not JSON, or lacks a field → 422 `validation_error` / `missing_required_field`;
 * - another path → 404 `not_found`, another method → 405 `method_not_allowed`;
 * - errors as `{ statusCode, name, message }`.
 * It can also be told to answer every request with a given status (429, 500…), to redirect,
 * to hang (read the request and never answer) or to stall a 200's body. Every request is
 * recorded.
 */
import { Buffer } from "node:buffer";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body text. */
  body: string;
}

export type ResendBehaviour =
  | { kind: "accept" }
  /** Every request is answered with this status and Resend's error document for it. */
  | { kind: "status"; status: number }
  /** 307 to another path of the stand-in (which would accept a follow-up). */
  | { kind: "redirect" }
  /** The request is read and no answer ever comes. */
  | { kind: "hang" }
  /** 200 and the start of `{ id }`, and the rest of the body never comes. */
  | { kind: "stall-body" };

export interface ResendStandIn {
  /** http://127.0.0.1:port (what RESEND_API_URL would be). */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Emails accepted (200), with the id given. */
  readonly accepted: { id: string; email: Record<string, unknown> }[];
  behave(behaviour: ResendBehaviour): void;
  close(): Promise<void>;
}

const ERROR_NAMES: Record<number, string> = {
  400: "invalid_request",
  401: "missing_api_key",
  403: "invalid_api_key",
  404: "not_found",
  405: "method_not_allowed",
  409: "invalid_idempotent_request",
  422: "validation_error",
  429: "rate_limit_exceeded",
  500: "application_error",
  502: "application_error",
  503: "application_error",
};

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, message: string, name = ERROR_NAMES[status]) {
  const headers: Record<string, string> =
    status === 429 ? { "retry-after": "1", "ratelimit-limit": "2", "ratelimit-remaining": "0" } : {};
  reply(res, status, { statusCode: status, name: name ?? "application_error", message }, headers);
}

/** What is wrong with a send-email body, or null when Resend would take it. */
function invalidEmail(email: unknown): string | null {
  if (typeof email !== "object" || email === null || Array.isArray(email)) return "body must be an object";
  const e = email as Record<string, unknown>;
  for (const field of ["from", "to", "subject"]) {
    if (e[field] === undefined) return `Missing \`${field}\` field.`;
  }
  if (typeof e.from !== "string") return "`from` must be a string";
  const to = typeof e.to === "string" ? [e.to] : e.to;
  if (!Array.isArray(to) || to.length < 1 || to.length > 50 || !to.every((t) => typeof t === "string")) {
    return "`to` must be a string or an array of 1 to 50 strings";
  }
  if (typeof e.subject !== "string") return "`subject` must be a string";
  for (const field of ["text", "html"]) {
    if (e[field] !== undefined && typeof e[field] !== "string") return `\`${field}\` must be a string`;
  }
  if (e.text === undefined && e.html === undefined) return "Missing `html` or `text` field.";
  return null;
}

/** Starts the stand-in; requests must carry `Bearer ${apiKey}`. */
export async function startResendStandIn(apiKey: string): Promise<ResendStandIn> {
  const requests: RecordedRequest[] = [];
  const accepted: { id: string; email: Record<string, unknown> }[] = [];
  const sockets = new Set<Socket>();
  let behaviour: ResendBehaviour = { kind: "accept" };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://standin").pathname;
      const body = Buffer.concat(chunks).toString("utf8");
      requests.push({ method: req.method ?? "", path, headers: req.headers, body });

      if (behaviour.kind === "hang") return;
      if (behaviour.kind === "stall-body") {
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"id":"');
        return;
      }
      if (behaviour.kind === "status") {
        error(res, behaviour.status, "Forced by the test.");
        return;
      }
      if (behaviour.kind === "redirect") {
        res.writeHead(307, { location: "/elsewhere/emails" });
        res.end();
        return;
      }
      if (path !== "/emails" && path !== "/elsewhere/emails") {
        error(res, 404, "The requested endpoint does not exist.");
        return;
      }
      if (req.method !== "POST") {
        error(res, 405, "Method Not Allowed");
        return;
      }
      const auth = req.headers.authorization;
      if (!auth?.startsWith("Bearer ")) {
        error(res, 401, "Missing API key in the authorization header.");
        return;
      }
      if (auth !== `Bearer ${apiKey}`) {
        error(res, 403, "API key is invalid");
        return;
      }
      if (!req.headers["content-type"]?.startsWith("application/json")) {
        error(res, 422, "Invalid `content-type` header.", "invalid_request");
        return;
      }
      let email: unknown;
      try {
        email = JSON.parse(body);
      } catch {
        error(res, 422, "Invalid JSON body.", "invalid_request");
        return;
      }
      const problem = invalidEmail(email);
      if (problem) {
        error(
          res,
          422,
          problem,
          problem.startsWith("Missing") ? "missing_required_field" : "validation_error",
        );
        return;
      }
      const id = randomUUID();
      accepted.push({ id, email: email as Record<string, unknown> });
      reply(res, 200, { id });
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    accepted,
    behave(next) {
      behaviour = next;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

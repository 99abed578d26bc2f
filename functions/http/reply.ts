/** What handlers answer with: JSON with a status, or an empty 204. */

/** A JSON answer (`application/json`). */
export function json(body: unknown, status = 200, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("Content-Type", "application/json");
  return new Response(JSON.stringify(body), { status, headers: h });
}

/** 204 No Content. */
export function noContent(headers?: HeadersInit): Response {
  return new Response(null, { status: 204, ...(headers ? { headers } : {}) });
}

/** 202 Accepted, without a body. */
export function accepted(): Response {
  return new Response(null, { status: 202 });
}

import { Buffer } from "node:buffer";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ApiError } from "./problems";
import { jsonBody, MAX_BODY_BYTES, params, query, validate } from "./validation";

const Body = z.object({ items: z.array(z.object({ channel: z.enum(["email", "sms"]) })).optional() });

const app = new Hono()
  .post("/body", async (c) => c.json(await jsonBody(c, Body)))
  .post("/optional", async (c) => c.json(await jsonBody(c, Body, { optional: true })))
  .get("/query", (c) => c.json(query(c, z.object({ limit: z.coerce.number().int().max(100) }))))
  .get("/things/:id", (c) => c.json(params(c, z.object({ id: z.uuid() }))));
app.onError((err, c) =>
  err instanceof ApiError
    ? c.json({ code: err.code, detail: err.detail, errors: err.extra.errors }, 400)
    : c.json({ unexpected: String(err) }, 500),
);

const JSON_TYPE = { "content-type": "application/json" };
const post = (body: BodyInit | null, type: string | null = "application/json", path = "/body") =>
  app.request(path, { method: "POST", body, headers: type ? { "content-type": type } : {} });
const code = async (res: Response) => ((await res.json()) as { code?: string }).code;

/** A JSON object of exactly `bytes` bytes: {"p":"xxx…"}. */
const objectOf = (bytes: number) => `{"p":"${"x".repeat(bytes - 8)}"}`;
/** A streamed body, no Content-Length unless given; counts pulls and notes cancellation. */
function streamed(chunk: Uint8Array, chunks: number, contentLength?: string) {
  const seen = { pulls: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(ctl) {
      if (seen.pulls++ < chunks) ctl.enqueue(chunk);
      else ctl.close();
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  const headers = { ...JSON_TYPE, ...(contentLength ? { "content-length": contentLength } : {}) };
  const req = new Request("http://x/body", { method: "POST", body, headers, duplex: "half" } as RequestInit);
  return { req, seen };
}

describe("validate", () => {
  it("returns the parsed value, or throws invalid_request with dotted field paths", () => {
    expect(validate(z.object({ n: z.coerce.number() }), { n: "7" }, "query")).toEqual({ n: 7 });
    expect(() => validate(Body, { items: [{ channel: "sms" }, { channel: "fax" }] }, "body")).toThrow(
      expect.objectContaining({
        code: "invalid_request",
        detail: "The body is not valid.",
        extra: { errors: [{ path: "items.1.channel", message: expect.any(String) }] },
      }),
    );
  });
});

describe("jsonBody", () => {
  it("accepts application/json in any case and with parameters", async () => {
    for (const type of ["application/json", "Application/JSON", "application/json; charset=utf-8"]) {
      const res = await post('{"items":[]}', type);
      expect(res.status, type).toBe(200);
      expect(await res.json()).toEqual({ items: [] });
    }
  });

  it.each([["text/plain"], ["application/jsonp"], ["application/json-patch+json"], [null]])(
    "refuses content type %s with unsupported_media_type",
    async (type) => expect(await code(await post("{}", type))).toBe("unsupported_media_type"),
  );

  it.each([[false], [true]])("caps the body at 64 KiB of bytes (Content-Length sent: %s)", async (sent) => {
    expect(MAX_BODY_BYTES).toBe(64 * 1024);
    const send = (body: string) => {
      const length: Record<string, string> = sent
        ? { "content-length": String(Buffer.byteLength(body)) }
        : {};
      return app.request("/body", { method: "POST", body, headers: { ...JSON_TYPE, ...length } });
    };
    expect((await send(objectOf(65_536))).status).toBe(200);
    expect(await code(await send(objectOf(65_537)))).toBe("payload_too_large");
    // 33,000 two-byte characters: under the cap in characters, over it in bytes.
    expect(await code(await send(`{"p":"${"é".repeat(33_000)}"}`))).toBe("payload_too_large");
  });

  it("refuses a declared Content-Length over the cap, whatever the body", async () => {
    const headers = { ...JSON_TYPE, "content-length": "65537" };
    expect(await code(await app.request("/body", { method: "POST", body: "{}", headers }))).toBe(
      "payload_too_large",
    );
  });

  it("stops reading a streamed body past the cap, even under a lying small Content-Length", async () => {
    for (const length of [undefined, "10"]) {
      const { req, seen } = streamed(new Uint8Array(16_384).fill(0x20), 1_000, length);
      expect(await code(await app.request(req))).toBe("payload_too_large");
      expect(seen.pulls).toBeLessThan(10);
      expect(seen.cancelled).toBe(true);
    }
  });

  it("answers invalid_request for an empty body, {} when the body is optional", async () => {
    expect(await code(await post(null))).toBe("invalid_request");
    expect(await code(await post(""))).toBe("invalid_request");
    const res = await post(null, null, "/optional");
    expect([res.status, await res.json()]).toEqual([200, {}]);
  });

  it.each([
    ['{"items":', "The body is not valid JSON."],
    ["[]", "The body must be a JSON object."],
    ['"text"', "The body must be a JSON object."],
    ["null", "The body must be a JSON object."],
  ])("refuses %s with invalid_request", async (body, detail) => {
    expect(await (await post(body)).json()).toMatchObject({ code: "invalid_request", detail });
  });

  it("refuses invalid UTF-8 rather than replacing it", async () => {
    const bytes = new Uint8Array([...new TextEncoder().encode('{"p":"'), 0xff, 0xfe, 0x22, 0x7d]);
    const res = await post(bytes, undefined, "/optional");
    expect(await res.json()).toMatchObject({
      code: "invalid_request",
      detail: "The body is not valid JSON.",
    });
  });

  it("reports schema failures with dotted paths", async () => {
    const res = await post('{"items":[{"channel":"fax"}]}');
    expect(await res.json()).toMatchObject({
      code: "invalid_request",
      errors: [{ path: "items.0.channel" }],
    });
  });
});

describe("query", () => {
  it("validates each key's first value", async () => {
    expect(await (await app.request("/query?limit=5&limit=500")).json()).toEqual({ limit: 5 });
    const res = await app.request("/query?limit=500");
    expect(await res.json()).toMatchObject({
      detail: "The query is not valid.",
      errors: [{ path: "limit" }],
    });
  });
});

describe("params", () => {
  it("validates path parameters", async () => {
    const id = crypto.randomUUID();
    expect(await (await app.request(`/things/${id}`)).json()).toEqual({ id });
    const res = await app.request("/things/42");
    expect(await res.json()).toMatchObject({ detail: "The path is not valid.", errors: [{ path: "id" }] });
  });
});

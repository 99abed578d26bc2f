/**
 * The request body cap inside workerd, through the real Workers entry (functions/index.ts, via
 * SELF). workerd does not finish a request body the Worker started reading and left half-read:
 * after the response it fails the rest with "Can't read from request stream after response has
 * been sent" and drops the connection the request came on, so the next request on it failed
 * (under `wrangler dev`, another client's: a 503 without X-Request-Id). So a streamed body
 * refused for size must have been read to its end when the 413 is answered (up to
 * DRAIN_LIMIT_BYTES), and every answer must be the request's own (413, 400 or 201) with its
 * X-Request-Id, never a 5xx.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DRAIN_LIMIT_BYTES, MAX_BODY_BYTES } from "../../functions/http/validation";

const PASSWORD = "correct horse battery staple";
const KIB = 1024;

type Kind =
  | "normal"
  | "malformed"
  | "oversized-declared"
  | "oversized-streamed"
  | "far-oversized-streamed"
  | "beyond-drain-limit-streamed";

const EXPECTED: Record<Kind, number> = {
  normal: 201,
  malformed: 400,
  "oversized-declared": 413,
  "oversized-streamed": 413,
  "far-oversized-streamed": 413,
  "beyond-drain-limit-streamed": 413,
};

/** A register body of `bytes` bytes in all: a big JSON string field. */
function registerBody(bytes: number): string {
  const email = `big-${crypto.randomUUID()}@example.test`;
  const base = JSON.stringify({ email, password: PASSWORD, displayName: "" });
  return base.replace('"displayName":""', `"displayName":"${"x".repeat(bytes - base.length)}"`);
}

/** What the sending side saw of a streamed body: read to its end, or cancelled. */
interface Sent {
  ended: boolean;
  cancelled: boolean;
}

/** A body streamed in 8 KiB chunks, so the request has no Content-Length (chunked). */
function streamOf(text: string, sent: Sent): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(ctl) {
      if (offset >= bytes.byteLength) {
        sent.ended = true;
        ctl.close();
        return;
      }
      ctl.enqueue(bytes.slice(offset, offset + 8 * KIB));
      offset += 8 * KIB;
    },
    cancel() {
      sent.cancelled = true;
    },
  });
}

async function send(kind: Kind): Promise<{ kind: Kind; res: Response; sent: Sent }> {
  const sent: Sent = { ended: false, cancelled: false };
  let body: BodyInit;
  if (kind === "normal") {
    body = JSON.stringify({ email: `ok-${crypto.randomUUID()}@example.test`, password: PASSWORD });
  } else if (kind === "malformed") {
    body = '{"email": "x@example.test", "password":';
  } else if (kind === "oversized-declared") {
    // A string body carries Content-Length: refused before anything is read.
    body = registerBody(70 * KIB);
  } else if (kind === "oversized-streamed") {
    body = streamOf(registerBody(70 * KIB), sent);
  } else if (kind === "far-oversized-streamed") {
    body = streamOf(registerBody(512 * KIB), sent);
  } else {
    body = streamOf(registerBody(DRAIN_LIMIT_BYTES + 256 * KIB), sent);
  }
  const res = await SELF.fetch("https://api.example.test/v1/auth/register", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  return { kind, res, sent };
}

async function expectAnswer({ kind, res, sent }: { kind: Kind; res: Response; sent: Sent }): Promise<void> {
  const text = await res.text();
  expect(res.status, `${kind}: ${text.slice(0, 200)}`).toBe(EXPECTED[kind]);
  const requestId = res.headers.get("x-request-id");
  expect(requestId, kind).toMatch(/^[0-9a-f-]{36}$/);
  if (res.status !== 201) {
    const problem = JSON.parse(text) as { code: string; requestId: string };
    expect(problem.requestId, kind).toBe(requestId);
    expect(problem.code, kind).toBe(res.status === 413 ? "payload_too_large" : "invalid_request");
  }
  if (kind === "oversized-streamed" || kind === "far-oversized-streamed") {
    // The Worker read the refused body to its end before answering: nothing left for the runtime.
    expect(sent, kind).toEqual({ ended: true, cancelled: false });
  }
}

describe("body cap under workerd", () => {
  it("sizes its bodies around the cap and the drain limit", () => {
    expect(70 * KIB).toBeGreaterThan(MAX_BODY_BYTES);
    expect(512 * KIB).toBeLessThan(DRAIN_LIMIT_BYTES);
  });

  it("answers oversized, malformed and normal bodies in turn, each with its own request id", async () => {
    const order: Kind[] = [
      "oversized-declared",
      "normal",
      "oversized-streamed",
      "normal",
      "malformed",
      "far-oversized-streamed",
      "oversized-streamed",
      "malformed",
      "normal",
      // Past the drain limit the body is cancelled; the request is still answered 413.
      "beyond-drain-limit-streamed",
      "normal",
      "oversized-declared",
      "normal",
    ];
    for (const kind of order) await expectAnswer(await send(kind));
  });

  it("answers 30 parallel requests of every kind, none 5xx", async () => {
    const kinds: Kind[] = [
      "oversized-streamed",
      "normal",
      "oversized-declared",
      "malformed",
      "far-oversized-streamed",
    ];
    const batch = Array.from({ length: 30 }, (_, i) => kinds[i % kinds.length]!);
    const answers = await Promise.all(batch.map(send));
    for (const answer of answers) await expectAnswer(answer);
    // The isolate still serves ordinary requests afterwards.
    for (const kind of ["normal", "malformed"] as const) await expectAnswer(await send(kind));
  });
});

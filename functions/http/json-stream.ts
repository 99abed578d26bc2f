/**
 * A JSON object answered as a stream: plain fields are written as they are, fields given as an
 * async iterable of pages are written as one JSON array, page by page, as the reader pulls.
 * Memory holds one page at a time, however long the lists (the account export).
 */

/** A field of a streamed object: a JSON value, or the pages of an array. */
export type StreamedField = unknown | AsyncIterable<readonly unknown[]>;

function isPages(value: unknown): value is AsyncIterable<readonly unknown[]> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === "function";
}

/** The object's text, in pieces: at most one page's worth each. */
export async function* jsonObjectChunks(fields: Record<string, StreamedField>): AsyncGenerator<string> {
  let separator = "{";
  for (const [key, value] of Object.entries(fields)) {
    yield `${separator}${JSON.stringify(key)}:`;
    separator = ",";
    if (!isPages(value)) {
      yield JSON.stringify(value ?? null);
      continue;
    }
    let before = "[";
    for await (const page of value) {
      if (page.length === 0) continue;
      yield before + page.map((item) => JSON.stringify(item)).join(",");
      before = ",";
    }
    yield before === "[" ? "[]" : "]";
  }
  yield separator === "{" ? "{}" : "}";
}

export interface StreamedJson {
  response: Response;
  /** Settles when the body was written to the end, failed or was cancelled (never rejects). */
  finished: Promise<void>;
}

/**
 * A 200 `application/json` answer whose body is `fields` written piecewise. The status is sent
 * before the body is read: a read that fails midway cuts the body short (the client sees
 * invalid JSON, never a partial document that parses) and is passed to `onError`.
 */
export function streamJson(
  fields: Record<string, StreamedField>,
  opts: { headers?: HeadersInit; onError?: (error: unknown) => void } = {},
): StreamedJson {
  const chunks = jsonObjectChunks(fields);
  const encoder = new TextEncoder();
  let settle = () => {};
  const finished = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) {
          controller.close();
          settle();
        } else {
          controller.enqueue(encoder.encode(next.value));
        }
      } catch (error) {
        opts.onError?.(error);
        controller.error(error);
        settle();
      }
    },
    async cancel() {
      settle();
      await chunks.return(undefined);
    },
  });
  const headers = new Headers(opts.headers);
  headers.set("Content-Type", "application/json");
  return { response: new Response(body, { status: 200, headers }), finished };
}

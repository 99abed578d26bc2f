import { describe, expect, it } from "vitest";
import { ApiError } from "./problems";
import { rejectUnstorableStrings } from "./strings";

function errorsOf(value: unknown): unknown {
  try {
    rejectUnstorableStrings(value, "body");
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return (err as ApiError).extra.errors;
  }
}

describe("rejectUnstorableStrings", () => {
  it("accepts ordinary text, emoji (paired surrogates) and other control characters", () => {
    expect(errorsOf({ a: "plain", b: "🔒 lock", c: ["tab\there", "line\nbreak"], d: 5, e: null })).toBeNull();
  });

  it("names every NUL or lone surrogate, in values and keys, at any depth", () => {
    expect(errorsOf({ name: "a\u0000b" })).toEqual([{ path: "name", message: expect.any(String) }]);
    expect(errorsOf({ items: [{ x: "ok" }, { x: "\ud800" }] })).toEqual([
      { path: "items.1.x", message: expect.any(String) },
    ]);
    expect(errorsOf({ tail: "a\udc00" })).toEqual([{ path: "tail", message: expect.any(String) }]);
    expect(errorsOf({ "k\u0000": 1 })).toEqual([{ path: "k\u0000", message: expect.any(String) }]);
    expect(errorsOf("\u0000")).toEqual([{ path: "", message: expect.any(String) }]);
  });

  it("stops after ten findings", () => {
    expect(errorsOf(Array.from({ length: 50 }, () => "\u0000"))).toHaveLength(10);
  });
});

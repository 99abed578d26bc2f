import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { encodeResult, prepareCommand, sha1Hex, stripShebang, toRedisArg } from "../support/upstash-bridge";

/** What @upstash/redis does with a base64 string (pkg/http.ts base64decode). */
const clientDecode = (b64: string) =>
  new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));

describe("encodeResult", () => {
  it("base64-encodes strings as UTF-8, recursively, and leaves numbers and null", () => {
    expect(encodeResult("héllo ✓")).toBe(Buffer.from("héllo ✓").toString("base64"));
    expect(clientDecode(encodeResult("héllo ✓") as string)).toBe("héllo ✓");
    expect(encodeResult([1, "a", null, ["b", 2]])).toEqual([1, "YQ==", null, ["Yg==", 2]]);
    expect(encodeResult(42)).toBe(42);
    expect(encodeResult(null)).toBeNull();
  });

  it("keeps a top-level OK (the client special-cases it) but encodes OK inside arrays", () => {
    expect(encodeResult("OK")).toBe("OK");
    expect(encodeResult(["OK"])).toEqual(["T0s="]);
  });
});

describe("script helpers", () => {
  it("strips only a leading #! line and keeps the line count", () => {
    expect(stripShebang("#!lua flags=allow-key-locking\nreturn 1")).toBe("\nreturn 1");
    expect(stripShebang("return 1\n#!not first")).toBe("return 1\n#!not first");
  });

  it("computes the sha Redis and @upstash/redis use", () => {
    expect(sha1Hex("return 1")).toBe("e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  });

  it("maps EVAL/SCRIPT LOAD shas so a later EVALSHA with the client's sha works", () => {
    const shas = new Map<string, string>();
    const script = "#!lua flags=allow-key-locking\nreturn 1";
    expect(prepareCommand(["EVAL", script, 0], shas).call).toEqual(["EVAL", "\nreturn 1", "0"]);
    expect(prepareCommand(["evalsha", sha1Hex(script), 0], shas).call).toEqual([
      "evalsha",
      sha1Hex("\nreturn 1"),
      "0",
    ]);
    const unknown = sha1Hex("never seen");
    expect(prepareCommand(["EVALSHA", unknown, 0], shas).call[1]).toBe(unknown);
    const other = "#!lua\nreturn 2";
    const load = prepareCommand(["SCRIPT", "LOAD", other], shas);
    expect(load.call).toEqual(["SCRIPT", "LOAD", "\nreturn 2"]);
    expect(load.mapResult?.(sha1Hex("\nreturn 2"))).toBe(sha1Hex(other));
    expect(prepareCommand(["SCRIPT", "EXISTS", sha1Hex(other)], shas).call[2]).toBe(sha1Hex("\nreturn 2"));
  });
});

describe("command parsing", () => {
  it("stringifies JSON arguments the way Redis wants them", () => {
    expect([1, 2.5, true, null, "s", { a: 1 }].map(toRedisArg)).toEqual([
      "1",
      "2.5",
      "true",
      "",
      "s",
      '{"a":1}',
    ]);
  });

  it("refuses malformed commands and ones that would hijack the shared connection", () => {
    const shas = new Map<string, string>();
    for (const bad of [[], {}, [1, 2], "GET"]) expect(() => prepareCommand(bad, shas)).toThrow(/ERR/);
    expect(() => prepareCommand(["SELECT", 1], shas)).toThrow(/not supported/);
  });
});

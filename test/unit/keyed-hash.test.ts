import { describe, expect, it } from "vitest";
import { createKeyedHasher } from "../../functions/lib/keyed-hash";

describe("createKeyedHasher", () => {
  it("matches RFC 4231 test case 2 for HMAC-SHA-256", async () => {
    const hash = createKeyedHasher("Jefe");
    expect(await hash("what do ya want for nothing?")).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("is deterministic per key and differs across keys", async () => {
    const a = createKeyedHasher("server-key-a");
    const b = createKeyedHasher("server-key-b");
    const [a1, a2, b1] = await Promise.all([a("203.0.113.7"), a("203.0.113.7"), b("203.0.113.7")]);
    expect(a1).toMatch(/^[0-9a-f]{64}$/);
    expect(a1).toBe(a2);
    expect(a1).not.toBe(b1);
  });

  it("refuses an empty key", () => {
    expect(() => createKeyedHasher("")).toThrow(TypeError);
  });
});

describe("createKeyedHasher with a purpose", () => {
  it("derives one key per purpose: the same value hashes differently per purpose", async () => {
    const secret = "s".repeat(40);
    const [ip, ua, plain] = await Promise.all([
      createKeyedHasher(secret, "ip")("203.0.113.7"),
      createKeyedHasher(secret, "user-agent")("203.0.113.7"),
      createKeyedHasher(secret)("203.0.113.7"),
    ]);
    expect(ip).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set([ip, ua, plain]).size).toBe(3);
    expect(await createKeyedHasher(secret, "ip")("203.0.113.7")).toBe(ip);
  });
});

import { describe, expect, it } from "vitest";
import { networkOf } from "./network";

describe("networkOf", () => {
  it("keeps an IPv4 address as its own network", () => {
    expect(networkOf("203.0.113.7")).toBe("203.0.113.7");
    expect(networkOf(" 198.51.100.1 ")).toBe("198.51.100.1");
  });

  it("reduces IPv6 addresses to their /64, whatever their spelling", () => {
    const net = "2001:db8:1:2::/64";
    for (const address of [
      "2001:db8:1:2::1",
      "2001:db8:1:2:ffff:ffff:ffff:ffff",
      "2001:0DB8:0001:0002:0000:0000:0000:0009",
      "2001:db8:1:2:aaaa::",
      "fe80::1%eth0".replace("fe80::1", "2001:db8:1:2::7"),
    ]) {
      expect(networkOf(address), address).toBe(net);
    }
    expect(networkOf("2001:db8:1:3::1")).toBe("2001:db8:1:3::/64");
    expect(networkOf("::1")).toBe("0:0:0:0::/64");
  });

  it("treats IPv4-mapped IPv6 as the IPv4 address", () => {
    expect(networkOf("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(networkOf("::ffff:c000:0201")).toBe("192.0.2.1");
  });

  it("passes through what is not an address, and null", () => {
    expect(networkOf("not-an-ip")).toBe("not-an-ip");
    expect(networkOf("1:2:3:4:5:6:7:8:9")).toBe("1:2:3:4:5:6:7:8:9");
    expect(networkOf("256.1.1.1")).toBe("256.1.1.1");
    expect(networkOf(null)).toBeNull();
  });
});

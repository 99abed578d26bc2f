import { describe, expect, it } from "vitest";
import { addressKind } from "./address";

describe("addressKind", () => {
  it("calls ordinary global addresses public", () => {
    for (const a of [
      "8.8.8.8",
      "1.1.1.1",
      "93.184.216.34",
      "2606:4700:4700::1111",
      "2a00:1450:4001:80b::200e",
    ]) {
      expect(addressKind(a), a).toBe("public");
    }
  });

  it("tells loopback apart (allowed in development)", () => {
    for (const a of ["127.0.0.1", "127.255.0.9", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"]) {
      expect(addressKind(a), a).toBe("loopback");
    }
  });

  it("refuses private, CGNAT, link-local, unspecified, multicast, reserved and documentation ranges", () => {
    for (const a of [
      "10.0.0.1",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "100.64.0.1",
      "100.127.255.254",
      "169.254.169.254",
      "0.0.0.0",
      "0.1.2.3",
      "224.0.0.1",
      "239.255.255.250",
      "240.0.0.1",
      "255.255.255.255",
      "192.0.2.1",
      "198.18.0.1",
      "::",
      "fc00::1",
      "fd12:3456:789a::1",
      "fe80::1",
      "fe80::1%eth0",
      "febf::1",
      "fec0::1",
      "ff02::1",
      "2001:db8::1",
      "2001::1",
      "::ffff:10.0.0.1",
      "::ffff:a9fe:a9fe",
      "64:ff9b::192.168.0.1",
      "2002:c0a8:0101::1",
      "::10.0.0.1",
      "100::1",
    ]) {
      expect(addressKind(a), a).toBe("non_public");
    }
  });

  it("keeps the edges of each range right", () => {
    expect(addressKind("172.15.255.255")).toBe("public");
    expect(addressKind("172.32.0.0")).toBe("public");
    expect(addressKind("100.63.255.255")).toBe("public");
    expect(addressKind("100.128.0.0")).toBe("public");
    expect(addressKind("11.0.0.0")).toBe("public");
    expect(addressKind("223.255.255.255")).toBe("public");
    expect(addressKind("::ffff:8.8.8.8")).toBe("public");
    expect(addressKind("64:ff9b::8.8.8.8")).toBe("public");
    expect(addressKind("2002:0808:0808::1")).toBe("public");
  });

  it("answers null for what is not an IP address", () => {
    for (const a of ["example.com", "localhost", "", "1.2.3", "256.1.1.1", "1::2::3", "::g"]) {
      expect(addressKind(a), a).toBeNull();
    }
  });
});

/**
 * What kind of address an IP is, for refusing webhook targets a server should never be made to
 * call (server-side request forgery): only `public` addresses are callable, and `loopback` in
 * development. Everything that is not ordinary global unicast is `non_public`: private
 * (RFC 1918), shared/CGNAT (RFC 6598), link-local (RFC 3927, fe80::/10), unspecified,
 * multicast, broadcast and reserved ranges, documentation and benchmarking ranges, IPv6 unique
 * local (fc00::/7) and site-local; IPv4 embedded in IPv6 (mapped, NAT64, 6to4) is judged by its
 * IPv4 address. IPv6 is an allow list (2000::/3 global unicast only), so a range added later
 * is refused until known. Pure: no DNS, no I/O.
 */
import { IPV4, ipv6Hextets } from "./network";

export type AddressKind = "public" | "loopback" | "non_public";

/** [first octet, second octet low, second octet high] … as CIDR blocks: [a, b, c, d, prefix]. */
const IPV4_NON_PUBLIC: readonly [number, number, number, number, number][] = [
  [0, 0, 0, 0, 8], // "this network", unspecified
  [10, 0, 0, 0, 8], // private (RFC 1918)
  [100, 64, 0, 0, 10], // shared address space, CGNAT (RFC 6598)
  [169, 254, 0, 0, 16], // link-local (RFC 3927), cloud metadata endpoints
  [172, 16, 0, 0, 12], // private
  [192, 0, 0, 0, 24], // IETF protocol assignments
  [192, 0, 2, 0, 24], // documentation (TEST-NET-1)
  [192, 88, 99, 0, 24], // 6to4 relay anycast (deprecated)
  [192, 168, 0, 0, 16], // private
  [198, 18, 0, 0, 15], // benchmarking
  [198, 51, 100, 0, 24], // documentation (TEST-NET-2)
  [203, 0, 113, 0, 24], // documentation (TEST-NET-3)
  [224, 0, 0, 0, 4], // multicast
  [240, 0, 0, 0, 4], // reserved, and 255.255.255.255 broadcast
];

function ipv4Number(address: string): number {
  return address.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
}

function inBlock(value: number, [a, b, c, d, prefix]: readonly number[]): boolean {
  const base = ((a! * 256 + b!) * 256 + c!) * 256 + d!;
  const size = 2 ** (32 - prefix!);
  return value >= base && value < base + size;
}

function ipv4Kind(address: string): AddressKind {
  const value = ipv4Number(address);
  if (inBlock(value, [127, 0, 0, 0, 8])) return "loopback";
  return IPV4_NON_PUBLIC.some((block) => inBlock(value, block)) ? "non_public" : "public";
}

function hextetsToIpv4(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

function ipv6Kind(h: number[]): AddressKind {
  const [h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0, h7 = 0] = h;
  const firstFiveZero = h0 === 0 && h1 === 0 && h2 === 0 && h3 === 0 && h4 === 0;
  if (firstFiveZero && h5 === 0 && h6 === 0 && h7 === 1) return "loopback"; // ::1
  if (firstFiveZero && h5 === 0xffff) return ipv4Kind(hextetsToIpv4(h6, h7)); // ::ffff:a.b.c.d
  // NAT64 well-known prefix 64:ff9b::/96: the IPv4 address it translates to.
  if (h0 === 0x64 && h1 === 0xff9b && h2 === 0 && h3 === 0 && h4 === 0 && h5 === 0) {
    return ipv4Kind(hextetsToIpv4(h6, h7));
  }
  // 6to4 2002:AABB:CCDD::/48: the IPv4 address of its relay.
  if (h0 === 0x2002) return ipv4Kind(hextetsToIpv4(h1, h2)) === "public" ? "public" : "non_public";
  // Global unicast is 2000::/3; everything else (::, ::/96, fc00::/7, fe80::/10, ff00::/8…) is not.
  if ((h0 & 0xe000) !== 0x2000) return "non_public";
  // 2001::/23: IETF protocol assignments (Teredo 2001::/32, ORCHID…); 2001:db8::/32 documentation.
  if (h0 === 0x2001 && (h1 < 0x200 || h1 === 0xdb8)) return "non_public";
  // 3fff::/20: documentation (RFC 9637).
  if (h0 === 0x3fff && h1 < 0x1000) return "non_public";
  return "public";
}

/** The kind of IP address `address` (dotted IPv4, or IPv6 with or without brackets); null if it is not one. */
export function addressKind(address: string): AddressKind | null {
  const text = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  if (IPV4.test(text)) return ipv4Kind(text);
  if (!text.includes(":")) return null;
  const hextets = ipv6Hextets(text);
  return hextets ? ipv6Kind(hextets) : null;
}

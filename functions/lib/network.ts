/**
 * The network a client address belongs to, for per-network rate limits: an IPv4 address is its
 * own network; an IPv6 address counts as its /64 prefix, because a single subscriber is
 * routinely given a whole /64 (RFC 6177, RIPE-690) and could otherwise mint 2^64 fresh
 * buckets. IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are their IPv4 address.
 */

export const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEXTET = /^[0-9a-f]{1,4}$/;

/** Expands an IPv6 address to its 8 hextets (numbers), or null when it is not one (also used by lib/address.ts). */
export function ipv6Hextets(address: string): number[] | null {
  let text = address.toLowerCase();
  const zone = text.indexOf("%");
  if (zone !== -1) text = text.slice(0, zone);
  // A trailing dotted quad (::ffff:192.0.2.1, 64:ff9b::192.0.2.1) is two hextets.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (IPV4.test(tail)) {
    const [a, b, c, d] = tail.split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const head = parse(halves[0] ?? "");
  const rest = halves.length === 2 ? parse(halves[1] ?? "") : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  if (!groups.every((g) => HEXTET.test(g))) return null;
  return groups.map((g) => Number.parseInt(g, 16));
}

/**
 * The rate-limit network of `address`: the IPv4 address itself, or `<first four hextets>::/64`
 * for IPv6. An address that parses as neither is returned unchanged (it still gets a bucket of
 * its own; platforms only hand us real addresses). Null stays null.
 */
export function networkOf(address: string | null): string | null {
  if (address === null) return null;
  const trimmed = address.trim();
  if (IPV4.test(trimmed)) return trimmed;
  const hextets = ipv6Hextets(trimmed);
  if (!hextets) return trimmed;
  const mapped = hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff;
  if (mapped) {
    const [hi = 0, lo = 0] = hextets.slice(6);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${hextets
    .slice(0, 4)
    .map((h) => h.toString(16))
    .join(":")}::/64`;
}

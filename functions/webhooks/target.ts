/**
 * Which URLs a webhook may be sent to (server-side request forgery defence), checked when an
 * endpoint is created and again before every delivery:
 * - `https://` to a public address. With APP_ENV=development only, `http://` or `https://` to a
 *   loopback address too (a receiver on the developer's machine).
 * - No user name or password in the URL (they would be stored and logged as part of it).
 * - The host is judged as written: an IP literal by lib/address.ts; `localhost` and `*.localhost`
 *   are loopback (RFC 6761); a single-label name or one under a local-only suffix (`.local`,
 *   `.internal`, `.home.arpa`…) is refused, since it can only resolve inside a network.
 * - At delivery, a DNS name is resolved where the platform can (Node: every address the name
 *   has must pass, functions/platform/resolve-node.ts). Workers cannot resolve names, and need
 *   not: Cloudflare's fetch does not reach private networks or the Worker's own host.
 */
import { type AddressKind, addressKind } from "../lib/address";

/** Resolves a host name to all its addresses (Node's dns.lookup with `all: true`). */
export type ResolveHost = (hostname: string) => Promise<string[]>;

const LOCAL_SUFFIXES = [
  ".localhost",
  ".local",
  ".internal",
  ".intranet",
  ".lan",
  ".home.arpa",
  ".localdomain",
];

/** Why a target is refused; short, stable, safe to store and show. */
export type TargetRefusal =
  | "malformed_url"
  | "https_required"
  | "credentials_in_url"
  | "non_public_address"
  | "unresolvable_host";

type Checked = { ok: true; url: URL } | { ok: false; reason: TargetRefusal };

/** The kind of a host as written (IP literal or name), before any DNS. */
function hostKind(hostname: string): AddressKind {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  const literal = addressKind(host);
  if (literal) return literal;
  if (host === "localhost" || host.endsWith(".localhost")) return "loopback";
  if (!host.includes(".") || LOCAL_SUFFIXES.some((suffix) => host.endsWith(suffix))) return "non_public";
  return "public";
}

function allowed(kind: AddressKind, development: boolean): boolean {
  return kind === "public" || (development && kind === "loopback");
}

/** Checks a webhook URL as written (at creation, and before each delivery). */
export function checkWebhookUrl(raw: string, development: boolean): Checked {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "malformed_url" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return { ok: false, reason: "https_required" };
  if (url.username || url.password) return { ok: false, reason: "credentials_in_url" };
  const kind = hostKind(url.hostname);
  if (!allowed(kind, development)) return { ok: false, reason: "non_public_address" };
  // Plain http only to the developer's own machine.
  if (url.protocol === "http:" && !(development && kind === "loopback")) {
    return { ok: false, reason: "https_required" };
  }
  return { ok: true, url };
}

/**
 * Checks a URL for a delivery: as written, then, for a DNS name and with a resolver, every
 * address it resolves to (any non-public one refuses it: a name may be pointed anywhere).
 */
export async function checkDeliveryTarget(
  raw: string,
  development: boolean,
  resolve: ResolveHost | undefined,
): Promise<Checked> {
  const checked = checkWebhookUrl(raw, development);
  if (!checked.ok || !resolve) return checked;
  const host = checked.url.hostname.replace(/^\[|\]$/g, "");
  if (addressKind(host) || hostKind(host) === "loopback") return checked;
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch {
    return { ok: false, reason: "unresolvable_host" };
  }
  if (addresses.length === 0) return { ok: false, reason: "unresolvable_host" };
  for (const address of addresses) {
    const kind = addressKind(address);
    if (!kind || !allowed(kind, development)) return { ok: false, reason: "non_public_address" };
  }
  return checked;
}

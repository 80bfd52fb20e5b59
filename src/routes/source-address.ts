import { isIP } from "node:net";

/** The client address a policy sees, or why there is none. */
export type SourceAddress = { readonly address: string } | { readonly refuse: string };

/**
 * Used when the gateway reached Verdict over a Unix socket or an internal listener and no
 * trusted forwarded address is configured: the unspecified address, which no private,
 * loopback or corporate range contains, so an IP-based permit never matches it by accident.
 */
export const UNSPECIFIED_SOURCE = "0.0.0.0";

/** An IP literal in canonical family form: `::ffff:a.b.c.d` is the IPv4 address a.b.c.d. */
export function canonicalIp(text: string): string | undefined {
  let s = text.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(s);
  if (mapped) s = mapped[1]!;
  // Zone ids (fe80::1%eth0) are local to the gateway's host and mean nothing to a policy.
  return s.includes("%") || isIP(s) === 0 ? undefined : s;
}

/**
 * The client address an Envoy door uses: with `trustedHops` = 0 the address of the connection
 * Envoy saw (a Unix-socket or internal-listener peer, `undefined`, has none: UNSPECIFIED_SOURCE);
 * with N > 0 the x-forwarded-for entry Envoy's own `xff_num_trusted_hops: N` trusts.
 */
export function resolveSourceAddress(peer: string | undefined, forwardedFor: readonly string[] | undefined, trustedHops: number): SourceAddress {
  if (trustedHops > 0) return forwardedAddress(forwardedFor, trustedHops);
  if (peer === undefined) return { address: UNSPECIFIED_SOURCE };
  const ip = canonicalIp(peer);
  return ip === undefined ? { refuse: "the gateway gave no source IP address" } : { address: ip };
}

/**
 * The (N+1)th entry from the right of `x-forwarded-for` (every occurrence, in order), N being
 * the trusted hops in front of the gateway. The gateway appended the address it saw last
 * (Envoy with `use_remote_address: true`, nginx's `$proxy_add_x_forwarded_for`, Caddy), so
 * this is the address Envoy's `xff_num_trusted_hops: N` picks: entries right of it come from
 * proxies the operator trusts, anything left of it a client may have forged. Too few entries,
 * or an entry that is not an IP address, is a refusal, never a guess.
 */
export function forwardedAddress(forwardedFor: readonly string[] | undefined, trustedHops: number): SourceAddress {
  const chain = (forwardedFor ?? []).flatMap((v) => v.split(",")).map((s) => s.trim()).filter((s) => s !== "");
  if (chain.length <= trustedHops) return { refuse: `x-forwarded-for has ${chain.length} address(es): ${trustedHops} trusted hop(s) need at least ${trustedHops + 1}` };
  const ip = canonicalIp(chain[chain.length - 1 - trustedHops]!);
  return ip === undefined ? { refuse: "x-forwarded-for holds something that is not an IP address at the trusted hop" } : { address: ip };
}

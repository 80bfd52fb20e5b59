import type { SourceAddress } from "./source-address.js";

/** What the gateway tells us about one HTTP request, whatever its wire format. */
export interface HttpFacts {
  /** The method exactly as the gateway sent it (HTTP methods are case-sensitive). */
  readonly method: string;
  /** The raw request target (`:path`), query included, not decoded. */
  readonly target: string;
  readonly host: string;
  /**
   * Lower-case header names → their values, one element per occurrence the gateway reported
   * separately (Envoy's `header_map`, a forward-auth request's header lines).
   */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  /**
   * True when the gateway joined repeated headers into one comma-separated value (Envoy's
   * `headers` map): a comma may then hide a second occurrence.
   */
  readonly commaJoined: boolean;
  /** The client's IP address as the policy sees it (after trusted-hops resolution), or why there is none. */
  readonly source: SourceAddress;
  /** The mTLS peer identity the gateway verified (a SPIFFE id, or a subject DN), "" if none. */
  readonly peerPrincipal: string;
  readonly peerCertificatePresented: boolean;
  /** Payloads the gateway's own JWT filter verified, by metadata key. */
  readonly verifiedJwtPayloads: Readonly<Record<string, unknown>>;
  /** The PDP's own clock when the request arrived: never a time the caller asserts. */
  readonly time: Date;
}

/**
 * A header's single value, or why it cannot be used: a second occurrence (or, when the gateway
 * joined occurrences with commas, a comma) means the client may have smuggled in another value.
 */
export function singleHeader(facts: HttpFacts, name: string): { value: string | undefined } | { ambiguous: string } {
  const values = facts.headers.get(name);
  if (values === undefined || values.length === 0) return { value: undefined };
  if (values.length > 1 || (facts.commaJoined && values[0]!.includes(","))) return { ambiguous: `the ${name} header has several values` };
  return { value: values[0] };
}

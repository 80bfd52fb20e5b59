/** What the gateway tells us about one HTTP request, whatever its wire format. */
export interface HttpFacts {
  readonly method: string;
  /** The raw request target (`:path`), query included, not decoded. */
  readonly target: string;
  readonly host: string;
  /** Lower-case header names; a header sent several times arrives as one comma-joined value. */
  readonly headers: ReadonlyMap<string, string>;
  readonly sourceAddress: string;
  /** The mTLS peer identity the gateway verified (e.g. a SPIFFE id), "" if none. */
  readonly peerPrincipal: string;
  readonly peerCertificatePresented: boolean;
  /** Payloads the gateway's own JWT filter verified, by metadata key. */
  readonly verifiedJwtPayloads: Readonly<Record<string, unknown>>;
  readonly time: Date;
}

/**
 * A header's single value, or why it cannot be used: a gateway joins repeated headers with
 * commas, so a comma means the client may have sent a second value to smuggle one in.
 */
export function singleHeader(facts: HttpFacts, name: string): { value: string | undefined } | { ambiguous: string } {
  const value = facts.headers.get(name);
  if (value === undefined) return { value };
  return value.includes(",") ? { ambiguous: `the ${name} header has several values` } : { value };
}

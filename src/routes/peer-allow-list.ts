import type { FieldPath, YamlFields } from "./yaml-fields.js";

/** Which verified client-certificate identities may be a principal. */
export interface PeerAllowList {
  /** SPIFFE trust domains: any `spiffe://<domain>/<path>` id of these is allowed. */
  readonly trustDomains: ReadonlySet<string>;
  /** Exact identities (a SPIFFE id, a DNS SAN, or a subject DN): only these, verbatim. */
  readonly ids: ReadonlySet<string>;
}

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
/** A SPIFFE workload id: a trust domain and a non-empty path with no empty, `.` or `..` segment. */
const SPIFFE_ID = /^spiffe:\/\/([a-z0-9._-]+)((?:\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+)$/;

/**
 * Reads `trustDomains` and `ids` of a `peer` source. At least one is required: a CA that issues
 * certificates for many purposes must not make every holder a principal, and a subject DN
 * (what Envoy reports when a certificate has no URI or DNS SAN) is a principal only when listed.
 */
export function parsePeerAllowList(y: YamlFields, at: FieldPath): PeerAllowList {
  const strings = (key: string) =>
    y.list([...at, key]).map((v, i) => (typeof v === "string" && v !== "" ? v : y.fail([...at, key, i], "must be a non-empty string")));
  const trustDomains = strings("trustDomains").map((d, i) => (TRUST_DOMAIN.test(d) ? d : y.fail([...at, "trustDomains", i], "must be a SPIFFE trust domain such as cluster.local (no scheme, no path)")));
  const ids = strings("ids");
  if (trustDomains.length === 0 && ids.length === 0) y.fail(at, "needs trustDomains (SPIFFE trust domains) or ids (exact identities): a certificate from the CA alone does not make a principal");
  return { trustDomains: new Set(trustDomains), ids: new Set(ids) };
}

/** Whether a verified peer identity may be the principal. */
export function peerAllowed(allow: PeerAllowList, identity: string): boolean {
  if (allow.ids.has(identity)) return true;
  const m = SPIFFE_ID.exec(identity);
  if (m === null) return false;
  const segments = m[2]!.split("/").slice(1);
  return !segments.some((s) => s === "." || s === "..") && allow.trustDomains.has(m[1]!);
}

import type { PeerCertificate } from "node:tls";

/**
 * The identities a client certificate proves: its SAN URIs (e.g. SPIFFE ids) and SAN DNS
 * names. The subject CN is not used: it is not bound to a name type, and SANs are the standard.
 */
export function identitiesOf(cert: PeerCertificate | undefined): string[] {
  const san = cert?.subjectaltname;
  if (!san) return [];
  const out: string[] = [];
  for (const entry of san.split(/,\s*/)) {
    const m = /^(URI|DNS):(.+)$/.exec(entry);
    if (m) out.push(m[2]!);
  }
  return out;
}

/** Parses the comma-separated allow-list setting; empty means any verified client. */
export function parseAllowList(setting: string): ReadonlySet<string> {
  return new Set(setting.split(",").map((s) => s.trim()).filter((s) => s.length > 0));
}

/** True when the allow-list is empty or names one of the certificate's identities. */
export function isAllowed(allow: ReadonlySet<string>, cert: PeerCertificate | undefined): boolean {
  if (allow.size === 0) return true;
  return identitiesOf(cert).some((id) => allow.has(id));
}

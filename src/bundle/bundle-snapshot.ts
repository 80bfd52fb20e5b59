import type { CompiledPolicies } from "../engine/compiled-policies.js";
import type { RouteTable } from "../routes/route-table.js";
import type { AuthzenMapping } from "./authzen-mapping.js";
import type { BundleFiles } from "./bundle-files.js";
import type { Manifest } from "./bundle-layout.js";

/**
 * One immutable, fully built bundle. A decision reads the active snapshot once, so it is
 * decided wholly by one revision; the cache scope keys decisions to exactly this content.
 */
export interface BundleSnapshot {
  readonly name: string;
  readonly revision: string;
  /** SHA-256 over every file of the bundle. */
  readonly digest: string;
  readonly manifest: Manifest;
  readonly policies: CompiledPolicies;
  readonly files: BundleFiles;
  /** Entity types whose data only the bundle supplies (manifest `trustedEntityTypes`). */
  readonly trustedEntityTypes: ReadonlySet<string>;
  /** How HTTP requests map to Cedar requests (`routes.yaml`), for the Envoy front door. */
  readonly routes?: RouteTable;
  /** How AuthZEN names map to this bundle's types and actions (`authzen.json`). */
  readonly authzen?: AuthzenMapping;
  /** When the bundle was signed (seconds since the epoch), if it was verified. */
  readonly signedAt?: number;
  /** Revision plus digest: two bundles that reuse a revision name never share cached decisions. */
  readonly cacheScope: string;
}

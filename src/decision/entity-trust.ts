import { invalidArgument } from "../errors.js";
import type { AuthzRequest } from "../model/authz-request.js";
import type { Entity } from "../model/entity.js";
import { formatUid } from "../model/entity.js";

/** The entities of a request that trust applies to: a Check's resource, or none for a Plan. */
export type TrustedParts = Pick<AuthzRequest, "principal" | "entities"> & { readonly resource?: Entity };

/** What to do with request data for bundle-owned entity types. */
export type UntrustedDataMode = "refuse" | "ignore";

/**
 * Enforces the bundle's `trustedEntityTypes`: a request may mention such entities, but may not
 * supply their attributes or parents, nor make any entity a member of one — otherwise a
 * compromised gateway could grant itself `Role::"admin"`. In `ignore` mode the supplied data is
 * dropped instead of refusing the request.
 */
export function applyEntityTrust<T extends TrustedParts>(req: T, trusted: ReadonlySet<string>, mode: UntrustedDataMode): T {
  if (trusted.size === 0) return req;
  let changed = false;
  const clean = (e: Entity, field: string): Entity => {
    const ownData = trusted.has(e.uid.type) && (Object.keys(e.attrs).length > 0 || e.parents.length > 0 || Object.keys(e.tags).length > 0);
    const claims = e.parents.filter((p) => trusted.has(p.type));
    if (!ownData && claims.length === 0) return e;
    if (mode === "refuse") {
      throw invalidArgument(
        ownData
          ? `${field}: ${formatUid(e.uid)} is of a bundle-owned type; its attributes and parents come from the bundle only`
          : `${field}.parents: membership in ${formatUid(claims[0]!)} (a bundle-owned type) cannot be claimed by a request`,
      );
    }
    changed = true;
    if (ownData) return { uid: e.uid, attrs: {}, parents: [], tags: {} };
    return { ...e, parents: e.parents.filter((p) => !trusted.has(p.type)) };
  };
  const principal = clean(req.principal, "principal");
  const resource = req.resource === undefined ? {} : { resource: clean(req.resource, "resource") };
  const entities = req.entities.map((e, i) => clean(e, `entities[${i}]`));
  return changed ? { ...req, principal, ...resource, entities } : req;
}

import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";

/** A key id missing from the cached keys refetches at most this often (no fetch storm). */
const COOLDOWN_MS = 10_000;
/** A fetch that takes longer is abandoned (it runs in the background, not in a request). */
const FETCH_TIMEOUT_MS = 5_000;
/**
 * The longest a request waits for keys being fetched: well under Envoy's 250 ms ext_authz
 * timeout, so a slow or unreachable IdP turns into a 401 the gateway delivers, never a timeout
 * that `failure_mode_allow` or a retry decides.
 */
export const JWKS_WAIT_MS = 100;

/** Why no key was available in time; verification fails with it (401 invalid_token). */
export class KeysNotReadyError extends Error {}

/**
 * A remote JWKS that requests never wait for: the keys are fetched as soon as the route table is
 * read (bundle activation), refreshed in the background every `refreshMs` while the cached keys
 * go on serving, and a token whose key id is unknown (a rotation) starts a refetch and waits at
 * most JWKS_WAIT_MS for it. Built on jose's remote key set (its cooldown and timeout).
 */
export function createBackgroundJwks(url: URL, refreshMs: number): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(url, { cooldownDuration: COOLDOWN_MS, cacheMaxAge: Infinity, timeoutDuration: FETCH_TIMEOUT_MS });
  let lastRefresh = Date.now();
  const refresh = () => {
    lastRefresh = Date.now();
    remote.reload().catch(() => undefined);
  };
  refresh();
  return async (header, token) => {
    if (Date.now() - lastRefresh > refreshMs && !remote.reloading) refresh();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new KeysNotReadyError(`the signing keys from ${url.origin} are not available yet`)), JWKS_WAIT_MS);
    });
    const key = remote(header, token);
    key.catch(() => undefined); // the loser of the race must not become an unhandled rejection
    try {
      return await Promise.race([key, deadline]);
    } finally {
      clearTimeout(timer);
    }
  };
}

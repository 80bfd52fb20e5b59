import { createHash, timingSafeEqual } from "node:crypto";

/** How a presented `authorization` header compares with the expected bearer token. */
export type BearerCheck = "ok" | "missing" | "wrong";

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Checks `Bearer <token>` headers against one token. Compares SHA-256 digests in constant
 * time, so neither the token's content nor its length leaks through timing.
 */
export function bearerChecker(token: string): (header: string | undefined) => BearerCheck {
  const want = digest(token);
  return (header) => {
    const m = header === undefined ? null : /^Bearer\s+(.+)$/i.exec(header);
    if (m === null) return "missing";
    return timingSafeEqual(digest(m[1]!), want) ? "ok" : "wrong";
  };
}

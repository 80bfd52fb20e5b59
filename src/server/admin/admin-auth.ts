import { createHash, timingSafeEqual } from "node:crypto";
import * as grpc from "@grpc/grpc-js";

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Requires `authorization: Bearer <token>` on every admin call: none → UNAUTHENTICATED, a
 * wrong one → PERMISSION_DENIED. Compares digests in constant time, so neither the token's
 * content nor its length leaks through timing.
 */
export function bearerTokenInterceptor(token: string): grpc.ServerInterceptor {
  const want = digest(token);
  return (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            const header = metadata.get("authorization")[0];
            const m = typeof header === "string" ? /^Bearer\s+(.+)$/i.exec(header) : null;
            if (m === null) {
              call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: "admin calls need `authorization: Bearer <token>`" });
              return;
            }
            if (!timingSafeEqual(digest(m[1]!), want)) {
              call.sendStatus({ code: grpc.status.PERMISSION_DENIED, details: "the admin token is not valid" });
              return;
            }
            nextMetadata(metadata);
          },
        }),
    });
}

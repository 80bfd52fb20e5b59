import * as grpc from "@grpc/grpc-js";
import { bearerChecker } from "../bearer-token.js";

/**
 * Requires `authorization: Bearer <token>` on every admin call: none → UNAUTHENTICATED, a
 * wrong one → PERMISSION_DENIED. Compares digests in constant time, so neither the token's
 * content nor its length leaks through timing.
 */
export function bearerTokenInterceptor(token: string): grpc.ServerInterceptor {
  const check = bearerChecker(token);
  return (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            const header = metadata.get("authorization")[0];
            const result = check(typeof header === "string" ? header : undefined);
            if (result === "missing") {
              call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: "admin calls need `authorization: Bearer <token>`" });
              return;
            }
            if (result === "wrong") {
              call.sendStatus({ code: grpc.status.PERMISSION_DENIED, details: "the admin token is not valid" });
              return;
            }
            nextMetadata(metadata);
          },
        }),
    });
}

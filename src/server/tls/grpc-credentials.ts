import * as grpc from "@grpc/grpc-js";
import type { Config } from "../../config/config-spec.js";
import { FileCertificateProvider } from "./file-certificate-provider.js";
import { isAllowed, parseAllowList } from "./peer-identity.js";

/** One listener's TLS settings. */
export type TlsSettings = Config["tls"]["grpc"];

/**
 * Server credentials for a gRPC listener: plaintext without a certificate; TLS with
 * certificate files re-read every `reloadMs` (rotation without restart); mTLS when a CA is set,
 * in which case a client without a valid certificate fails the handshake.
 */
export function grpcServerCredentials(tls: TlsSettings): grpc.ServerCredentials {
  if (tls.certFile === undefined) return grpc.ServerCredentials.createInsecure();
  const identity = new FileCertificateProvider({ cert: tls.certFile, key: tls.keyFile }, tls.reloadMs);
  const ca = tls.caFile === undefined ? null : new FileCertificateProvider({ ca: tls.caFile }, tls.reloadMs);
  // grpc-js's factory takes the identity provider first, despite its parameter names.
  return grpc.experimental.createCertificateProviderServerCredentials(identity, ca as grpc.experimental.CertificateProvider, ca !== null);
}

/**
 * A server interceptor that refuses calls from verified clients not on the allow-list, before
 * any handler runs, for every service on the listener (health and reflection included).
 */
export function clientAllowListInterceptor(tls: TlsSettings): grpc.ServerInterceptor | undefined {
  const allow = parseAllowList(tls.allowedClients);
  if (allow.size === 0 || tls.caFile === undefined) return undefined;
  return (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            if (isAllowed(allow, call.getAuthContext().sslPeerCertificate)) {
              nextMetadata(metadata);
              return;
            }
            call.sendStatus({ code: grpc.status.PERMISSION_DENIED, details: "client certificate identity is not on this listener's allow-list" });
          },
        }),
    });
}

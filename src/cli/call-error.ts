import { status, type ServiceError } from "@grpc/grpc-js";

/** How a CLI call on a server failed, for a person: what to do next, not gRPC's internals. */
export function callErrorText(what: string, addr: string, err: unknown, admin?: { tokenGiven: boolean }): string {
  const e = err as Partial<ServiceError> & Error;
  switch (e.code) {
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return `${what} failed: cannot reach ${admin ? "the admin listener" : "a Verdict server"} at ${addr} (is \`verdict serve\` running there${admin ? " with admin.token set" : ""}? check --addr)`;
    case status.UNAUTHENTICATED:
    case status.PERMISSION_DENIED:
      if (admin === undefined) break;
      return admin.tokenGiven
        ? `${what} failed: the server at ${addr} did not accept the admin token; pass the token the server has as admin.token with --token TOKEN or VERDICT_ADMIN_TOKEN`
        : `${what} failed: admin calls need a token: pass --token TOKEN or set VERDICT_ADMIN_TOKEN (the server's admin.token)`;
    case status.UNIMPLEMENTED:
      return `${what} failed: ${addr} does not serve this call (${admin ? "is it the admin listener, --addr of server.adminAddr?" : "is it Verdict's gRPC listener?"})`;
  }
  return `${what} failed: ${e.details || e.message}`;
}

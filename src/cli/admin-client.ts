import * as grpc from "@grpc/grpc-js";
import { PolicyAdminService } from "../gen/verdict/v1/admin_pb.js";
import { callErrorText } from "./call-error.js";
import { createServiceClient } from "./grpc-client.js";

/** Flags every admin call takes. */
export interface AdminFlags {
  addr: string;
  token?: string;
}

const tokenOf = (flags: AdminFlags) => flags.token ?? process.env["VERDICT_ADMIN_TOKEN"];

/** One call on a server's admin listener, with the bearer token from --token or $VERDICT_ADMIN_TOKEN. */
export async function adminCall<R>(flags: AdminFlags, method: string, request: unknown): Promise<R> {
  const token = tokenOf(flags);
  const metadata = new grpc.Metadata();
  if (token) metadata.set("authorization", `Bearer ${token}`);
  const client = createServiceClient(PolicyAdminService, flags.addr);
  try {
    return await client.call<R>(method, request, metadata, { deadline: Date.now() + 60_000 });
  } finally {
    client.close();
  }
}

/** Why an admin call failed, worded for the command (`push`, `activate`…) with what to do next. */
export const adminError = (what: string, flags: AdminFlags, err: unknown) => callErrorText(what, flags.addr, err, { tokenGiven: tokenOf(flags) !== undefined });

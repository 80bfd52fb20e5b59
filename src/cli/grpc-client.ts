import type { DescMessage, DescService, MessageShape } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { clientDefinition } from "../server/service-definition.js";

/** A promise-returning unary call on a protobuf-es service. */
export type UnaryCall = <I extends DescMessage, O extends DescMessage>(
  method: string,
  request: MessageShape<I>,
  metadata?: grpc.Metadata,
  options?: grpc.CallOptions,
) => Promise<MessageShape<O>>;

/** A small client for any protobuf-es service over grpc-js (CLI, tests, benchmarks). */
export interface ServiceClient {
  call<O>(method: string, request: unknown, metadata?: grpc.Metadata, options?: grpc.CallOptions): Promise<O>;
  close(): void;
}

/** Connects to `addr` (host:port) for `service`. */
export function createServiceClient(service: DescService, addr: string, credentials = grpc.credentials.createInsecure()): ServiceClient {
  const Client = grpc.makeGenericClientConstructor(clientDefinition(service), service.typeName);
  const client = new Client(addr, credentials) as unknown as grpc.Client & Record<string, Function>;
  return {
    call: <O>(method: string, request: unknown, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}) =>
      new Promise<O>((resolve, reject) => {
        const fn = client[method];
        if (typeof fn !== "function") {
          reject(new Error(`${service.typeName} has no method ${method}`));
          return;
        }
        fn.call(client, request, metadata, options, (err: grpc.ServiceError | null, res: O) => (err ? reject(err) : resolve(res)));
      }),
    close: () => client.close(),
  };
}

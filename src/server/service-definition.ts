import { type DescMessage, type DescMethod, type DescService, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { invalidArgument, toVerdictError } from "../errors.js";
import { toServiceError } from "./grpc-status.js";

/**
 * A grpc-js service definition for a protobuf-es service, with no gRPC code generator.
 * Server side, requests arrive as raw bytes and are decoded by `unary`, so a malformed
 * message is answered INVALID_ARGUMENT rather than grpc-js's generic INTERNAL.
 */
export function serverDefinition(service: DescService): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    def[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (m: MessageShape<DescMessage>) => asBuffer(toBinary(method.output, m)),
      responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
    } as grpc.MethodDefinition<unknown, unknown>;
  }
  return def as grpc.ServiceDefinition;
}

/** The encoded bytes as a Buffer over the same memory (no copy). */
const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** A grpc-js client definition for a protobuf-es service, typed messages both ways. */
export function clientDefinition(service: DescService): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    def[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (m: MessageShape<DescMessage>) => Buffer.from(toBinary(method.input, m)),
      requestDeserialize: (b: Buffer) => fromBinary(method.input, b),
      responseSerialize: (m: MessageShape<DescMessage>) => Buffer.from(toBinary(method.output, m)),
      responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
    } as grpc.MethodDefinition<unknown, unknown>;
  }
  return def as grpc.ServiceDefinition;
}

/** A unary handler body: decoded request in, response out, `VerdictError`s thrown. */
export type UnaryBody<M extends DescMethod> = (
  request: MessageShape<M["input"]>,
  call: grpc.ServerUnaryCall<Buffer, MessageShape<M["output"]>>,
) => Promise<MessageShape<M["output"]>>;

/** A request as it arrived, decoded only on demand. */
export interface EncodedRequest<M extends DescMethod> {
  readonly bytes: Uint8Array;
  /** Decodes the bytes; a malformed message throws INVALID_ARGUMENT naming its type. */
  decode(): MessageShape<M["input"]>;
}

/** A unary handler body that may answer without decoding the request. */
export type EncodedUnaryBody<M extends DescMethod> = (
  request: EncodedRequest<M>,
  call: grpc.ServerUnaryCall<Buffer, MessageShape<M["output"]>>,
) => Promise<MessageShape<M["output"]>>;

/** Wraps a handler body: decode, run, and answer exactly once, errors as gRPC statuses. */
export function unary<M extends DescMethod>(method: M, body: UnaryBody<M>): grpc.handleUnaryCall<Buffer, MessageShape<M["output"]>> {
  return unaryEncoded(method, (request, call) => body(request.decode(), call));
}

/** Like `unary`, for a body that decides itself whether (and when) to decode. */
export function unaryEncoded<M extends DescMethod>(method: M, body: EncodedUnaryBody<M>): grpc.handleUnaryCall<Buffer, MessageShape<M["output"]>> {
  return (call, callback) => {
    const bytes = call.request;
    const decode = (): MessageShape<M["input"]> => {
      try {
        return fromBinary(method.input, bytes) as MessageShape<M["input"]>;
      } catch (err) {
        throw invalidArgument(`malformed ${method.input.typeName}: ${(err as Error).message}`);
      }
    };
    let answer: Promise<MessageShape<M["output"]>>;
    try {
      answer = body({ bytes, decode }, call);
    } catch (err) {
      answer = Promise.reject(err);
    }
    answer.then(
      (response) => callback(null, response),
      (err: unknown) => callback(toServiceError(toVerdictError(err))),
    );
  };
}

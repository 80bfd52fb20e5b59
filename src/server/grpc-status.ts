import { status } from "@grpc/grpc-js";
import type { ErrorCode, VerdictError } from "../errors.js";

const CODES: Record<ErrorCode, status> = {
  invalid_argument: status.INVALID_ARGUMENT,
  limit_exceeded: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  unauthenticated: status.UNAUTHENTICATED,
  permission_denied: status.PERMISSION_DENIED,
  not_found: status.NOT_FOUND,
  failed_precondition: status.FAILED_PRECONDITION,
  deadline_exceeded: status.DEADLINE_EXCEEDED,
  internal: status.INTERNAL,
};

/** The one mapping from Verdict's error codes to gRPC status codes. */
export function grpcCodeOf(err: VerdictError): status {
  return CODES[err.code];
}

/** A grpc-js ServiceError for a VerdictError. */
export function toServiceError(err: VerdictError): { code: status; details: string; message: string } {
  return { code: grpcCodeOf(err), details: err.message, message: err.message };
}

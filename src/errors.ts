/** Stable error codes; transports map them to their own statuses in one place each. */
export type ErrorCode =
  | "invalid_argument"
  | "limit_exceeded"
  | "unavailable"
  | "unauthenticated"
  | "permission_denied"
  | "not_found"
  | "failed_precondition"
  | "deadline_exceeded"
  | "internal";

/** A typed error with a stable code, a message that names what is wrong, and a cause. */
export class VerdictError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "VerdictError";
    this.code = code;
  }
}

/** A request that is malformed or does not conform to the schema. */
export const invalidArgument = (message: string, cause?: unknown): VerdictError =>
  new VerdictError("invalid_argument", message, { cause });

/** A request over a size, depth or count limit. */
export const limitExceeded = (message: string): VerdictError => new VerdictError("limit_exceeded", message);

/** The service cannot decide right now (no active bundle, engine recycling). */
export const unavailable = (message: string, cause?: unknown): VerdictError =>
  new VerdictError("unavailable", message, { cause });

/** Turns anything thrown into a VerdictError; unknown faults become `internal`, never a decision. */
export function toVerdictError(err: unknown): VerdictError {
  if (err instanceof VerdictError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new VerdictError("internal", `internal error: ${message}`, { cause: err });
}

import type { IncomingMessage } from "node:http";

/** Why a body could not be read; `status` is the HTTP status to answer. */
export class BodyError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * Reads a JSON body of at most `maxBytes`: a declared or actual size beyond it is refused with
 * 413 as soon as it is known, without buffering the rest; invalid JSON is 400.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > maxBytes) {
    req.resume();
    throw new BodyError(413, `request body of ${declared} bytes is over the ${maxBytes}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      req.resume();
      throw new BodyError(413, `request body is over the ${maxBytes}-byte limit`);
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks)));
  } catch (err) {
    throw new BodyError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
}

import type { IncomingMessage, ServerResponse } from "node:http";
import type { CheckInput, VerdictClient } from "./verdict-client.js";

/** Maps an incoming request to the question to ask, or undefined to refuse it outright (401). */
export type RequestMapper<Req extends IncomingMessage> = (req: Req) => CheckInput | undefined | Promise<CheckInput | undefined>;

/**
 * An Express/Connect-style middleware `(req, res, next)`: asks Verdict and calls `next()` only
 * on ALLOW. No identity → 401; deny → 403; Verdict unreachable or any error → 503. It never
 * lets a request through on an error (fail closed). Works with plain node:http too.
 */
export function verdictMiddleware<Req extends IncomingMessage = IncomingMessage>(client: VerdictClient, map: RequestMapper<Req>) {
  return (req: Req, res: ServerResponse, next: (err?: unknown) => void): void => {
    const refuse = (status: number, error: string) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ error }));
    };
    (async () => {
      let input: CheckInput | undefined;
      try {
        input = await map(req);
      } catch {
        return refuse(400, "the request cannot be mapped to an authorization question");
      }
      if (input === undefined) return refuse(401, "authentication required");
      let allowed: boolean;
      try {
        allowed = (await client.check(input)).allowed;
      } catch {
        return refuse(503, "authorization is unavailable");
      }
      if (allowed) next();
      else refuse(403, "forbidden");
    })().catch(() => refuse(500, "internal error"));
  };
}

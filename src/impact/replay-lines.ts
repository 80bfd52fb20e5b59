import { invalidArgument, VerdictError } from "../errors.js";
import { requestFromJson } from "../model/request-json.js";
import type { ReplayItem } from "./impact-report.js";

/**
 * Reads requests to replay from JSON lines, each one of: a decision log line written with
 * `decisionLog.includeRequest` (its `request`, `decision_id`), an object with a `request` (the
 * shape of a policy test), or a request itself (the JSON form of verdict.v1.CheckRequest).
 * Blank lines are skipped; anything else is refused, naming the line.
 */
export function parseReplayLines(text: string, source: string): ReplayItem[] {
  const items: ReplayItem[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    const where = `${source}:${i + 1}`;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      throw invalidArgument(`${where}: not JSON (${(err as Error).message})`);
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) throw invalidArgument(`${where}: must be a JSON object`);
    const o = json as Record<string, unknown>;
    const loggedId = typeof o["decision_id"] === "string" ? o["decision_id"] : undefined;
    if (loggedId !== undefined && o["request"] === undefined) {
      throw invalidArgument(`${where}: a decision log line without "request"; log with decisionLog.includeRequest=true to record replayable requests`);
    }
    try {
      const { request, requestId } = requestFromJson(o["request"] ?? o, "request");
      items.push({ request, requestId: requestId || (typeof o["request_id"] === "string" ? o["request_id"] : ""), ...(loggedId === undefined ? {} : { decisionId: loggedId }) });
    } catch (err) {
      throw err instanceof VerdictError ? invalidArgument(`${where}: ${err.message}`) : err;
    }
  }
  return items;
}

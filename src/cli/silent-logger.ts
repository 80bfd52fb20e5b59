import { pino } from "pino";
import type { Logger } from "../observability/logger.js";

/** A logger that writes nothing, for one-shot commands whose output is their result. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

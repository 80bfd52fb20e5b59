import { pino, type Logger } from "pino";

export type { Logger };

/** The service log: JSON lines on stderr, so stdout stays free for decision logs. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "verdict" } }, pino.destination({ dest: 2, sync: false }));
}

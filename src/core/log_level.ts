/**
 * `[server] log_level` (spec 02 §1): the server's log lines carry no level of
 * their own, so each is given one from what it says, and lines below the
 * configured level are dropped.
 *
 * - INFO: lifecycle and routine lines (Listening, Ready, access lines,
 *   Shutting down, Stopped, crash recovery counts, retention passes, "works
 *   again" notices).
 * - ERROR: a failure (`failed`, `cannot`, `unhandled`, `internal error`,
 *   `refused`).
 * - WARNING: everything else, including every `warning:` line, so a line
 *   nobody classified is hidden only at ERROR and above.
 *
 * DEBUG shows what INFO shows (there are no debug lines); CRITICAL hides every
 * server line (fatal problems end the process with their own message).
 */

/** The levels `[server] log_level` accepts. */
export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL";

const RANK: Readonly<Record<LogLevel, number>> = {
  DEBUG: 10,
  INFO: 20,
  WARNING: 30,
  ERROR: 40,
  CRITICAL: 50,
};

const INFO = new RegExp(
  "^(access |Listening on |Ready: |Shutting down|Stopped|Crash recovery: |Cleared |" +
    "Retention cleanup |Removed stale PID file |routing decision: |Pin write-behind works again|" +
    "Backoff changes saved again|Database write probe works again|Automatic backup written)",
);
const ERROR = /\b(failed|cannot|unhandled|internal error|refused)\b/i;

/** The level a log line is reported at. */
export function levelOfLine(message: string): Exclude<LogLevel, "DEBUG" | "CRITICAL"> {
  if (/^warning:/i.test(message)) return "WARNING";
  if (INFO.test(message)) return "INFO";
  if (ERROR.test(message)) return "ERROR";
  return "WARNING";
}

/** `log` without the lines below `level`. */
export function filterLog(
  log: (message: string) => void,
  level: LogLevel,
): (message: string) => void {
  const min = RANK[level];
  if (min <= RANK.INFO) return log;
  return (message) => {
    if (RANK[levelOfLine(message)] >= min) log(message);
  };
}

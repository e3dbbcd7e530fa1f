import { redactUrl } from "./redact.js";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  isEnabled(level: LogLevel): boolean;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: "json" | "pretty";
  /** Where lines go; stdout by default (Knative collects the container's stdout). */
  readonly write?: (line: string) => void;
}

/**
 * A structured logger: one JSON object per line (`time`, `level`, `msg`, fields), or a
 * readable line for a terminal. Errors are reduced to name, message and stack.
 */
export function createLogger(options: LoggerOptions, bound: LogFields = {}): Logger {
  const min = RANK[options.level];
  const write = options.write ?? ((line: string) => process.stdout.write(line + "\n"));
  const log = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const record: LogFields = {
      time: new Date().toISOString(),
      level,
      msg,
      ...bound,
      ...fields,
    };
    for (const key in record) {
      const value = record[key];
      if (value instanceof Error) record[key] = serializeError(value);
      // Credentials in URLs (redis://user:pass@…) never reach the logs.
      else if (typeof value === "string" && value.includes("://") && value.includes("@"))
        record[key] = redactUrl(value);
    }
    if (options.format === "json") write(JSON.stringify(record));
    else write(pretty(record));
  };
  return {
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
    isEnabled: (level) => RANK[level] >= min,
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

function serializeError(error: Error): LogFields {
  const out: LogFields = { name: error.name, message: error.message, stack: error.stack };
  if (error.cause instanceof Error) out.cause = serializeError(error.cause);
  return out;
}

function pretty(record: LogFields): string {
  const { time, level, msg, ...rest } = record;
  const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : "";
  return `${String(time).slice(11, 23)} ${String(level).toUpperCase().padEnd(5)} ${String(msg)}${extra}`;
}

export const silentLogger: Logger = createLogger({ level: "silent", format: "json", write: () => {} });

import { ConfigError, loadConfig } from "../config/load-config.js";
import type { HostConfig } from "../config/host-config.js";
import { createLogger, type Logger } from "../observability/logger.js";

/** What `knstate serve` and `knstate relay` are given: function folders, flags, the environment. */
export interface ServeOptions {
  readonly paths: readonly string[];
  readonly flags: Readonly<Record<string, string | undefined>>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The configuration, logger and function folders a long-running command starts from. */
export interface Startup {
  readonly config: HostConfig;
  readonly logger: Logger;
  readonly paths: readonly string[];
}

/**
 * Loads the configuration and resolves the function folders (the arguments, else
 * `KNSTATE_FUNCTIONS`); a usage error is written to stderr and returned as exit code 2.
 */
export function startup(command: string, options: ServeOptions): Startup | number {
  let config;
  try {
    config = loadConfig(options.env, options.flags);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`knstate: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const paths = options.paths.length > 0 ? options.paths : (config.functions ?? []);
  if (paths.length === 0) {
    process.stderr.write(
      `knstate: name at least one function folder (knstate ${command} ./functions/counter) or set KNSTATE_FUNCTIONS\n`,
    );
    return 2;
  }
  return { config, logger, paths };
}

/**
 * Resolves with the exit code once SIGTERM or SIGINT has run `drain`: 0 when it completed, 1 when
 * it failed or a second signal came first (exit without waiting).
 */
export function untilSignal(logger: Logger, drain: (signal: string) => Promise<void>): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn(`second ${signal}: exiting without waiting`);
        resolve(1);
        return;
      }
      stopping = true;
      drain(signal).then(
        () => {
          logger.info("stopped");
          resolve(0);
        },
        (error: unknown) => {
          logger.error("shutdown failed", { error });
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
  });
}

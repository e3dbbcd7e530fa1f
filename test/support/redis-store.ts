import { loadConfig } from "../../src/config/load-config.js";
import { createLogger, silentLogger, type Logger } from "../../src/observability/logger.js";
import { RedisStore } from "../../src/store/redis-store.js";
import type { AppendRequest, EntityKey } from "../../src/store/state-store.js";

/** A logger at debug level whose JSON lines a test can read. */
export function captureLogs(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: "debug", format: "json", write: (l) => lines.push(l) }), lines };
}

/** `RedisStore.connect` with the host's settings read from `env`, as the host would. */
export function connectRedisStore(
  env: Record<string, string>,
  logger: Logger = silentLogger,
): Promise<RedisStore> {
  return RedisStore.connect(loadConfig({ KNSTATE_STORE: "redis", ...env }), logger);
}

/** An append of `count` counter increments at `expectedVersion`, with no dedup ids. */
export const increments = (key: EntityKey, expectedVersion: number, count: number): AppendRequest => ({
  key,
  expectedVersion,
  events: Array.from({ length: count }, () => ({ type: "changed", data: { by: 1 } })),
  logEvents: true,
  checkDedup: [],
  writeDedup: [],
  dedupTtlMs: 60_000,
});

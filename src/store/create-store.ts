import type { HostConfig } from "../config/host-config.js";
import type { Logger } from "../observability/logger.js";
import { MemoryStore } from "./memory-store.js";
import { parseRetention } from "./retention.js";
import type { StateStore } from "./state-store.js";

/** The store the configuration names. Redis support is loaded only when it is used. */
export async function createStore(config: HostConfig, logger: Logger): Promise<StateStore> {
  if (config.store === "memory") {
    logger.warn(
      "using the in-memory store: state is lost when the process exits and is not shared between replicas",
    );
    return new MemoryStore({ retention: parseRetention(config.retainEvents) });
  }
  const { RedisStore } = await import("./redis-store.js");
  return RedisStore.connect(config, logger);
}

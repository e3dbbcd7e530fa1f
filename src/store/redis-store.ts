import type { HostConfig } from "../config/host-config.js";
import type { Logger } from "../observability/logger.js";
import type { StateStore } from "./state-store.js";

/** Placeholder until the Redis store lands: refuses to start rather than pretending to work. */
export const RedisStore = {
  connect(_config: HostConfig, _logger: Logger): Promise<StateStore> {
    return Promise.reject(new Error("the Redis store is not built into this version"));
  },
};

import { loadConfig } from "../../src/config/load-config.js";
import type { Component } from "../../src/entity/define.js";
import { silentLogger, type Logger } from "../../src/observability/logger.js";
import { RedisStore } from "../../src/store/redis-store.js";
import { startHost, type RunningHost } from "./host.js";
import { freePort } from "./ports.js";

export interface AdminHost {
  readonly running: RunningHost;
  /** The public API, e.g. http://127.0.0.1:1234 */
  readonly url: string;
  /** The admin port, e.g. http://127.0.0.1:1235 */
  readonly admin: string;
  /** POST /{type}/{id}/{command} on the public port: the JSON reply. */
  command(type: string, id: string, command: string, data?: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/** A host with the example functions over the Redis at `redisUrl`, its admin port open on loopback. */
export async function startAdminHost(
  redisUrl: string,
  env: Record<string, string> = {},
  logger: Logger = silentLogger,
  components?: readonly Component[],
): Promise<AdminHost> {
  const adminPort = await freePort();
  const settings = {
    KNSTATE_STORE: "redis",
    REDIS_URL: redisUrl,
    ADMIN_PORT: String(adminPort),
    // Publishing on, so publishing entities fill the outbox; no relay runs in process (only
    // `knstate serve` starts one), so what the outbox holds stays there for the tests to see.
    K_SINK: "http://127.0.0.1:9/",
    ...env,
  };
  const store = await RedisStore.connect(loadConfig({ ...settings, METRICS_PORT: "0" }), silentLogger);
  const running = await startHost({ env: settings, store, logger, ...(components ? { components } : {}) });
  await running.host.listenAdmin(adminPort, "127.0.0.1");
  return {
    running,
    url: running.url,
    admin: `http://127.0.0.1:${adminPort}`,
    async command(type, id, command, data = {}) {
      const response = await fetch(`${running.url}/${type}/${encodeURIComponent(id)}/${command}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(data),
      });
      if (!response.ok)
        throw new Error(`${command} ${type}/${id}: ${response.status} ${await response.text()}`);
      return response.status === 204 ? undefined : response.json();
    },
    close: () => running.close(),
  };
}

/** Runs `task` over `items`, `concurrency` at a time. */
export async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<unknown>,
) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

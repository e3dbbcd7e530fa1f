import type { Registry } from "prom-client";
import type { OutboxRelay } from "./relay.js";

/**
 * The outbox's series, read from the relay when Prometheus scrapes: the backlog of the whole
 * outbox (every pod sees the same), and this pod's published / retried / dead-lettered counts.
 */
export async function registerOutboxMetrics(registry: Registry, relay: OutboxRelay): Promise<void> {
  const { Counter, Gauge } = await import("prom-client");
  let backlog: Promise<{ length: number; oldest: number | undefined }> | undefined;
  // One read of the outbox per scrape, shared by both gauges.
  const read = () =>
    (backlog ??= relay.backlog().finally(() => setTimeout(() => (backlog = undefined), 100)));
  new Gauge({
    name: "knstate_outbox_length",
    help: "Committed events waiting in the outbox to be published to K_SINK.",
    registers: [registry],
    async collect() {
      this.set((await read().catch(() => ({ length: Number.NaN }))).length);
    },
  });
  new Gauge({
    name: "knstate_outbox_oldest_age_seconds",
    help: "Age of the oldest event waiting in the outbox (0 when it is empty).",
    registers: [registry],
    async collect() {
      const { oldest } = await read().catch(() => ({ oldest: undefined }));
      this.set(oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
    },
  });
  const counter = (name: string, help: string, value: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(value());
      },
    });
  counter(
    "knstate_outbox_published_total",
    "Events this pod published to K_SINK (2xx).",
    () => relay.stats.published,
  );
  counter(
    "knstate_outbox_retries_total",
    "Attempts to publish that failed and were retried.",
    () => relay.stats.retried,
  );
  counter(
    "knstate_outbox_dead_lettered_total",
    "Events the sink refused for good, moved to the dead-letter stream.",
    () => relay.stats.deadLettered,
  );
}

/** Registers the outbox's series once the host's metrics exist (they load after start-up). */
export function whenMetricsReady(getRegistry: () => Registry | undefined, relay: OutboxRelay): void {
  const attempt = () => {
    const registry = getRegistry();
    if (registry === undefined) {
      setTimeout(attempt, 100).unref();
      return;
    }
    void registerOutboxMetrics(registry, relay);
  };
  attempt();
}

import type { Registry } from "prom-client";
import type { TimerObserver } from "./timer-observer.js";

/** Lateness buckets (seconds after the due time): a warm pod's poll, a cold start, a Ping period. */
const LATENESS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

type Record = (sink: TimerObserver) => void;

/**
 * Timer metrics: `knstate_timers_fired_total`, `knstate_timer_lateness_seconds` (how long after
 * its due time a timer's command was applied), `knstate_timers_retried_total`,
 * `knstate_timers_dropped_total` and the gauge `knstate_timers_pending` (the service's due index,
 * read at scrape time). Observations made before prom-client is loaded are replayed into it.
 */
export class TimerMetrics implements TimerObserver {
  #sink: TimerObserver | undefined;
  #queue: Record[] = [];

  fired(entity: string, lateSeconds: number, repeat: boolean): void {
    this.#record((s) => s.fired?.(entity, lateSeconds, repeat));
  }
  retried(entity: string, error: unknown): void {
    this.#record((s) => s.retried?.(entity, error));
  }
  dropped(entity: string, name: string, error: unknown): void {
    this.#record((s) => s.dropped?.(entity, name, error));
  }

  /** Creates the series in `registry`; `pending` counts the service's pending timers. */
  async register(registry: Registry, pending: () => Promise<number>): Promise<void> {
    const { Counter, Gauge, Histogram } = await import("prom-client");
    const registers = [registry];
    const fired = new Counter({
      name: "knstate_timers_fired_total",
      help: "Timers whose command was applied (repeat: a second firing answered from its dedup record).",
      labelNames: ["entity_type", "repeat"],
      registers,
    });
    const lateness = new Histogram({
      name: "knstate_timer_lateness_seconds",
      help: "Time from a timer's due time to its command being applied.",
      labelNames: ["entity_type"],
      buckets: LATENESS_BUCKETS,
      registers,
    });
    const retried = new Counter({
      name: "knstate_timers_retried_total",
      help: "Timer firings that failed and are left to their lease (then fired again).",
      labelNames: ["entity_type"],
      registers,
    });
    const dropped = new Counter({
      name: "knstate_timers_dropped_total",
      help: "Timers removed without effect: their command was refused or failed for good.",
      labelNames: ["entity_type"],
      registers,
    });
    new Gauge({
      name: "knstate_timers_pending",
      help: "Timers of the service scheduled and not yet fired (all pods).",
      registers,
      async collect() {
        this.set(await pending());
      },
    });
    this.#sink = {
      fired(entity, lateSeconds, repeat) {
        fired.inc({ entity_type: entity, repeat: String(repeat) });
        lateness.observe({ entity_type: entity }, lateSeconds);
      },
      retried: (entity) => retried.inc({ entity_type: entity }),
      dropped: (entity) => dropped.inc({ entity_type: entity }),
    };
    for (const record of this.#queue.splice(0)) record(this.#sink);
  }

  #record(record: Record): void {
    if (this.#sink !== undefined) record(this.#sink);
    else if (this.#queue.length < 10_000) this.#queue.push(record);
  }
}

import type { Registry } from "prom-client";

/** What the metrics read of a store's work after commits (`AfterCommit` of src/store). */
export interface AfterCommitFailures {
  /** Pieces of work that failed since start, by kind (`trim`, `timer-slots`). */
  readonly failures: Readonly<Record<string, number>>;
}

/**
 * `knstate_store_after_commit_failures_total{work}`: work the Redis store does after an
 * append's reply (the retention trim, a timer's slot registration on Redis Cluster) that failed.
 * Each is repaired later, so a failure is no lost data, but a steady rate means the events'
 * streams keep growing or timers wait for the sweep. Read from the store when Prometheus scrapes;
 * every kind is exported from zero.
 */
export async function registerAfterCommitMetrics(
  registry: Registry,
  source: AfterCommitFailures,
): Promise<void> {
  const { Counter } = await import("prom-client");
  new Counter({
    name: "knstate_store_after_commit_failures_total",
    help: "Work after an append's reply that failed (work: trim, timer-slots); it is repaired later.",
    labelNames: ["work"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [work, count] of Object.entries(source.failures)) this.inc({ work }, count);
    },
  });
}

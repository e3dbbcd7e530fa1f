import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Registry } from "prom-client";
import { LeanCounter, LeanHistogram, type CounterChild, type HistogramChild } from "./lean-metrics.js";

/** The identifying labels of the `faas_*` series, as the Knative Functions Node runtime sets them. */
export interface FaasIdentity {
  /** `faas_name`: the function (K_SERVICE). */
  readonly name: string;
  /** `faas_version`: the revision (K_REVISION), when known. */
  readonly version?: string | undefined;
  /** `faas_instance`: the pod (POD_NAME, else the host name, which is the pod name in Kubernetes). */
  readonly instance?: string | undefined;
}

/** prom-client's default histogram buckets, which faas-js-runtime uses. */
export const FAAS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The series of `faas-js-runtime` (`lib/metrics.js`), the runtime of Knative Functions for Node,
 * with the same names, help, labels and (prom-client default) buckets, so dashboards built for
 * Knative Functions work unchanged: `faas_invocations`, `faas_errors`, `faas_execution_latency`,
 * `faas_cold_start_latency`. Unlike that runtime, the labels go on these series only, not on
 * every series of the registry.
 */
export class FaasMetrics {
  readonly #invocations: CounterChild;
  readonly #errors: CounterChild;
  readonly #latency: HistogramChild;
  readonly #coldStart: HistogramChild;

  constructor(registry: Registry, identity: FaasIdentity) {
    const instance = identity.instance ?? hostname();
    const labels: Record<string, string> = {
      faas_name: identity.name,
      faas_id: `${instance}-${randomUUID()}`,
      faas_instance: instance,
    };
    if (identity.version !== undefined) labels.faas_version = identity.version;
    labels.faas_runtime = "Node.js";
    this.#invocations = new LeanCounter(
      "faas_invocations",
      "The number of times this function was invoked",
      registry,
    ).labels(labels);
    this.#errors = new LeanCounter(
      "faas_errors",
      "The number of function invocation failures",
      registry,
    ).labels(labels);
    this.#latency = new LeanHistogram(
      "faas_execution_latency",
      "The time it took for this function to be invoked and return",
      FAAS_BUCKETS,
      registry,
    ).labels(labels);
    this.#coldStart = new LeanHistogram(
      "faas_cold_start_latency",
      "The time it took for this function to be in the ready state after the container started",
      FAAS_BUCKETS,
      registry,
    ).labels(labels);
  }
  /** One request on the public port, answered with `status` after `seconds`. */
  invoked(status: number, seconds: number): void {
    this.#invocations.inc();
    this.#latency.observe(seconds);
    if (status >= 500) this.#errors.inc();
  }

  /** Seconds from process start to accepting requests; observed once. */
  coldStart(seconds: number): void {
    this.#coldStart.observe(seconds);
  }
}

import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { Counter, Histogram, type Registry } from "prom-client";

/** The identifying labels of the `faas_*` series, as the Knative Functions Node runtime sets them. */
export interface FaasIdentity {
  /** `faas_name`: the function (K_SERVICE). */
  readonly name: string;
  /** `faas_version`: the revision (K_REVISION), when known. */
  readonly version?: string | undefined;
  /** `faas_instance`: the pod (POD_NAME, else the host name, which is the pod name in Kubernetes). */
  readonly instance?: string | undefined;
}

const LABELS = ["faas_name", "faas_id", "faas_instance", "faas_version", "faas_runtime"] as const;

/**
 * The series of `faas-js-runtime` (`lib/metrics.js`), the runtime of Knative Functions for Node,
 * with the same names, help, labels and (prom-client default) buckets, so dashboards built for
 * Knative Functions work unchanged: `faas_invocations`, `faas_errors`, `faas_execution_latency`,
 * `faas_cold_start_latency`. Unlike that runtime, the labels go on these series only, not on
 * every series of the registry.
 */
export class FaasMetrics {
  readonly #invocations: Counter.Internal;
  readonly #errors: Counter.Internal;
  readonly #latency: Histogram.Internal<(typeof LABELS)[number]>;
  readonly #coldStart: Histogram.Internal<(typeof LABELS)[number]>;

  constructor(registry: Registry, identity: FaasIdentity) {
    const labels: Partial<Record<(typeof LABELS)[number], string>> = {
      faas_name: identity.name,
      faas_id: `${identity.instance ?? hostname()}-${randomUUID()}`,
      faas_instance: identity.instance ?? hostname(),
      faas_runtime: "Node.js",
    };
    if (identity.version !== undefined) labels.faas_version = identity.version;
    const registers = [registry];
    const invocations = new Counter({
      name: "faas_invocations",
      help: "The number of times this function was invoked",
      labelNames: LABELS,
      registers,
    });
    const errors = new Counter({
      name: "faas_errors",
      help: "The number of function invocation failures",
      labelNames: LABELS,
      registers,
    });
    const latency = new Histogram({
      name: "faas_execution_latency",
      help: "The time it took for this function to be invoked and return",
      labelNames: LABELS,
      registers,
    });
    const coldStart = new Histogram({
      name: "faas_cold_start_latency",
      help: "The time it took for this function to be in the ready state after the container started",
      labelNames: LABELS,
      registers,
    });
    // Present from the first scrape, so rate() sees the first invocation too.
    invocations.inc(labels, 0);
    errors.inc(labels, 0);
    latency.zero(labels);
    this.#invocations = invocations.labels(labels);
    this.#errors = errors.labels(labels);
    this.#latency = latency.labels(labels);
    this.#coldStart = coldStart.labels(labels);
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

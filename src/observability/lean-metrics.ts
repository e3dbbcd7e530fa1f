import type { Metric, Registry } from "prom-client";

type Labels = Readonly<Record<string, string>>;

interface Sample {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

/**
 * Counters and histograms for the command path, exposed through a prom-client `Registry` like
 * its own metrics (same text format). prom-client validates and hashes the labels on every
 * `inc()`/`observe()` even on a bound child (0.3–0.6 µs each); here a child is a plain object
 * found once per label set and updated in place (a few ns), and the work of formatting happens
 * when Prometheus scrapes.
 */
abstract class LeanMetric<Child extends { readonly labels: Labels }> {
  readonly aggregator = "sum";
  readonly #children = new Map<string, Child>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "histogram",
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The child of a label set, created (at zero, so the series exists) on first use. Cache it. */
  labels(labels: Labels): Child {
    const key = JSON.stringify(labels);
    let child = this.#children.get(key);
    if (child === undefined) {
      child = this.create({ ...labels });
      this.#children.set(key, child);
    }
    return child;
  }

  protected abstract create(labels: Labels): Child;
  protected abstract samples(child: Child): Sample[];
  protected abstract zero(child: Child): void;

  /** The interface prom-client's Registry reads when it renders `/metrics`. */
  get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const values: Sample[] = [];
    for (const child of this.#children.values()) values.push(...this.samples(child));
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    });
  }

  reset(): void {
    for (const child of this.#children.values()) this.zero(child);
  }
}

export class CounterChild {
  value = 0;
  constructor(readonly labels: Labels) {}
  inc(by = 1): void {
    this.value += by;
  }
}

/** A monotonic counter (`_total` in its name, by convention). */
export class LeanCounter extends LeanMetric<CounterChild> {
  constructor(name: string, help: string, registry: Registry) {
    super(name, help, "counter", registry);
  }
  protected create(labels: Labels): CounterChild {
    return new CounterChild(labels);
  }
  protected samples(child: CounterChild): Sample[] {
    return [{ labels: child.labels, value: child.value }];
  }
  protected zero(child: CounterChild): void {
    child.value = 0;
  }
}

export class HistogramChild {
  /** Observations per bucket (not cumulative); the last slot is above the largest bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** A histogram with fixed bucket upper bounds (`le`), exposed as `_bucket`, `_sum`, `_count`. */
export class LeanHistogram extends LeanMetric<HistogramChild> {
  readonly #bounds: readonly number[];

  constructor(name: string, help: string, buckets: readonly number[], registry: Registry) {
    super(name, help, "histogram", registry);
    this.#bounds = [...buckets].sort((a, b) => a - b);
  }
  protected create(labels: Labels): HistogramChild {
    return new HistogramChild(labels, this.#bounds);
  }
  protected samples(child: HistogramChild): Sample[] {
    const out: Sample[] = [];
    let cumulative = 0;
    this.#bounds.forEach((le, i) => {
      cumulative += child.counts[i]!;
      out.push({ labels: { le, ...child.labels }, value: cumulative, metricName: `${this.name}_bucket` });
    });
    out.push({
      labels: { le: "+Inf", ...child.labels },
      value: child.count,
      metricName: `${this.name}_bucket`,
    });
    out.push({ labels: child.labels, value: child.sum, metricName: `${this.name}_sum` });
    out.push({ labels: child.labels, value: child.count, metricName: `${this.name}_count` });
    return out;
  }
  protected zero(child: HistogramChild): void {
    child.counts.fill(0);
    child.sum = 0;
    child.count = 0;
  }
}

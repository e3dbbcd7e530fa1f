import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { LeanCounter, LeanHistogram } from "../../src/observability/lean-metrics.js";
import { DURATION_BUCKETS } from "../../src/observability/metrics.js";

const values = [0, 0.0005, 0.0007, 0.001, 0.002, 0.0031, 0.02, 0.3, 1, 2.5, 3, 7.25];

describe("lean metrics", () => {
  it("render exactly as prom-client's Counter and Histogram for the same observations", async () => {
    const reference = new Registry();
    const lean = new Registry();
    const labels = { entity_type: "counter", command: "increment" };
    const refHistogram = new Histogram({
      name: "h_seconds",
      help: "A histogram.",
      labelNames: ["entity_type", "command"],
      buckets: DURATION_BUCKETS,
      registers: [reference],
    }).labels(labels);
    const refCounter = new Counter({
      name: "c_total",
      help: "A counter.",
      labelNames: ["entity_type", "command"],
      registers: [reference],
    }).labels(labels);
    const leanHistogram = new LeanHistogram("h_seconds", "A histogram.", DURATION_BUCKETS, lean).labels(
      labels,
    );
    const leanCounter = new LeanCounter("c_total", "A counter.", lean).labels(labels);
    for (const v of values) {
      refHistogram.observe(v);
      leanHistogram.observe(v);
      refCounter.inc(2);
      leanCounter.inc(2);
    }
    expect(await lean.metrics()).toBe(await reference.metrics());
  });

  it("creates a series at zero on first use and keeps one child per label set", async () => {
    const registry = new Registry();
    const counter = new LeanCounter("x_total", "X.", registry);
    expect(counter.labels({ a: "1" })).toBe(counter.labels({ a: "1" }));
    expect(await registry.metrics()).toContain('x_total{a="1"} 0');
    registry.resetMetrics();
    counter.labels({ a: "1" }).inc();
    expect(await registry.metrics()).toContain('x_total{a="1"} 1');
  });
});

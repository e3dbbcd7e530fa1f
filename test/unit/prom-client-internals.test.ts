import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Counter, Registry, type Metric } from "prom-client";
import { describe, expect, it } from "vitest";
import { LeanCounter, LeanHistogram } from "../../src/observability/lean-metrics.js";

/**
 * `lean-metrics.ts` registers plain objects as prom-client metrics: it relies on what prom-client's
 * `Registry` reads from a registered metric, which is not public API. package.json pins
 * prom-client to the minor range these tests were written against; a new release that reads
 * anything else, or renders differently, fails here before it fails in production.
 */
const LEAN_MEMBERS = ["name", "help", "type", "aggregator", "get", "reset"];
/** Members the registry looks for and does without (15.1: `getForPromString`, else `get`). */
const PROBED = ["getForPromString"];

/** A registered metric that records every member the registry reads from it. */
function recording(metric: object, read: Set<string>): object {
  return new Proxy(metric, {
    get(target, key, receiver) {
      if (typeof key === "string") read.add(key);
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe("prom-client, as lean-metrics uses it", () => {
  it("is the 15.1 release line that package.json pins", () => {
    const require = createRequire(import.meta.url);
    const path = require.resolve("prom-client/package.json");
    const { version } = JSON.parse(readFileSync(path, "utf8")) as { version: string };
    expect(version).toMatch(/^15\.1\./);
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies["prom-client"]).toBe("~15.1.3");
  });

  it("reads nothing from a registered metric but the members lean metrics have", async () => {
    const registry = new Registry();
    const read = new Set<string>();
    const lean = new LeanCounter("c_total", "A counter.", new Registry());
    lean.labels({ a: "1" }).inc();
    registry.registerMetric(recording(lean, read) as Metric);
    await registry.metrics();
    await registry.getMetricsAsJSON();
    await registry.getSingleMetricAsString("c_total");
    registry.resetMetrics();
    const unknown = [...read].filter((key) => !LEAN_MEMBERS.includes(key) && !PROBED.includes(key));
    expect(unknown).toEqual([]);
    expect(read).toContain("get");
    expect(read).toContain("name");
    expect("getForPromString" in lean).toBe(false);
  });

  it("renders what get() returns in the shape prom-client's own metrics return", async () => {
    const registry = new Registry();
    const reference = new Counter({ name: "r_total", help: "R.", labelNames: ["a"], registers: [registry] });
    reference.labels({ a: "1" }).inc(3);
    const own = await reference.get();
    expect(Object.keys(own).sort()).toEqual(["aggregator", "help", "name", "type", "values"]);
    expect(Object.keys(own.values[0]!).sort()).toEqual(["labels", "value"]);
    const histogram = new LeanHistogram("h_seconds", "H.", [0.1, 1], registry);
    histogram.labels({ a: "1" }).observe(0.5);
    const lean = await histogram.get();
    expect(Object.keys(lean).sort()).toEqual(Object.keys(own).sort());
    expect(lean.values.map((v) => v.metricName)).toEqual([
      "h_seconds_bucket",
      "h_seconds_bucket",
      "h_seconds_bucket",
      "h_seconds_sum",
      "h_seconds_count",
    ]);
    expect(await registry.metrics()).toContain('h_seconds_bucket{le="1",a="1"} 1');
    expect(await registry.metrics()).toContain('r_total{a="1"} 3');
  });
});

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HostMetrics } from "../../src/observability/metrics.js";
import { combineObservers, combineWrappers } from "../../src/observability/observers.js";
import { createLogger } from "../../src/observability/logger.js";
import { startTracing } from "../../src/observability/start-tracing.js";
import type { Tracing } from "../../src/observability/tracing.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import type { AppendRequest, StateStore } from "../../src/store/state-store.js";
import { startHost, type RunningHost } from "../support/host.js";
import { attr, startOtlpReceiver, type OtlpReceiver } from "../support/otlp.js";

/**
 * A memory store where another writer appends to entity `hot` just before this host's first
 * append to it, as a second replica would: that append then conflicts and is retried.
 */
function contendedStore(): StateStore {
  const inner = new MemoryStore();
  let contended = false;
  const append = async (request: AppendRequest) => {
    if (!contended && request.key.entityId === "hot") {
      contended = true;
      await inner.append({ ...request, checkDedup: [], writeDedup: [], snapshot: undefined });
    }
    return inner.append(request);
  };
  return new Proxy(inner, {
    get(target, property) {
      if (property === "append") return append;
      const value: unknown = Reflect.get(target, property);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

describe("tracing and metrics of conflicts and batches (in process)", () => {
  let receiver: OtlpReceiver;
  let tracing: Tracing;
  let metrics: HostMetrics;
  let host: RunningHost;
  const hotTrace = hex(16);
  const batchTraces = [hex(16), hex(16)];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_NODE_RESOURCE_DETECTORS: "none" };
    const logger = createLogger({ level: "silent", format: "json" });
    tracing = (await startTracing(env, { service: "conflicts", logger }))!;
    metrics = new HostMetrics({ faas: { name: "conflicts" }, service: "conflicts", conflictRetries: 10 });
    host = await startHost({
      store: contendedStore(),
      observer: combineObservers(metrics.observer, tracing.observer),
      wrapRequest: combineWrappers(metrics.wrapRequest, tracing.wrapRequest)!,
    });

    const hot = await fetch(host.url, {
      method: "POST",
      headers: {
        "ce-specversion": "1.0",
        "ce-id": "hot-1",
        "ce-source": "/test",
        "ce-type": "com.example.counter.increment",
        "ce-subject": "hot",
        "ce-traceparent": `00-${hotTrace}-${hex(8)}-01`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ by: 1 }),
    });
    expect(hot.status).toBe(200);
    // The other writer's increment and ours: version 2, value 2.
    expect(await hot.json()).toEqual({ value: 2 });

    const batch = await fetch(host.url, {
      method: "POST",
      headers: { "content-type": "application/cloudevents-batch+json" },
      body: JSON.stringify(
        batchTraces.map((trace, i) => ({
          specversion: "1.0",
          id: `batch-${i}`,
          source: "/test",
          type: "com.example.counter.increment",
          subject: `b${i}`,
          traceparent: `00-${trace}-${hex(8)}-01`,
          datacontenttype: "application/json",
          data: { by: 1 },
        })),
      ),
    });
    expect(batch.status).toBe(200);
    await tracing.shutdown();
  });

  afterAll(async () => {
    await host?.close();
    await receiver?.close();
  });

  it("counts the conflict and its retry", async () => {
    const text = await metrics.metrics();
    expect(text).toContain('knstate_conflicts_total{entity_type="counter"} 1');
    expect(text).toContain('knstate_conflict_retries_total{entity_type="counter"} 1');
    expect(text).toContain(
      'knstate_commands_total{entity_type="counter",command="increment",outcome="ok"} 3',
    );
  });

  it("shows the retry as a child span, between two loads, and the handler's two runs", () => {
    const trace = receiver.spans.filter((s) => s.traceId === hotTrace);
    const process = trace.find((s) => s.name === "process com.example.counter.increment")!;
    expect(process).toBeDefined();
    const children = trace.filter((s) => s.parentSpanId === process.spanId).map((s) => s.name);
    expect(children.filter((n) => n === "retry after conflict")).toHaveLength(1);
    // The handler ran twice: before the conflict and after the reload.
    expect(attr(process, "knstate.handler.runs")).toBe(2);
    expect(children.filter((n) => n === "append events")).toHaveLength(1);
    const retry = trace.find((s) => s.name === "retry after conflict")!;
    expect(attr(retry, "knstate.attempt")).toBe(1);
    // Loads: the first one (cache miss) and the reload after the conflict.
    expect(children.filter((n) => n === "load state").length).toBeGreaterThanOrEqual(1);
  });

  it("gives each event of a batch its own span in its own trace", () => {
    for (const [i, trace] of batchTraces.entries()) {
      const process = receiver.spans.find((s) => s.traceId === trace && s.name.startsWith("process "));
      expect(process, `batch event ${i}`).toBeDefined();
      expect(attr(process!, "cloudevents.event_id")).toBe(`batch-${i}`);
    }
  });
});

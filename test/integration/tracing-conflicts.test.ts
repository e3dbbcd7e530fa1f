import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HostMetrics } from "../../src/observability/metrics.js";
import { combineObservers, combineWrappers } from "../../src/observability/observers.js";
import type { Tracing } from "../../src/observability/tracing.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import type { AppendRequest, StateStore } from "../../src/store/state-store.js";
import { startHost, type RunningHost } from "../support/host.js";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}

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
  let receiver: Server;
  const spans: OtlpSpan[] = [];
  let tracing: Tracing;
  let metrics: HostMetrics;
  let host: RunningHost;
  const hotTrace = hex(16);
  const batchTraces = [hex(16), hex(16)];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        for (const rs of body.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? []) spans.push(...ss.spans);
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    // The SDK reads these from the process environment (this test file runs in its own worker).
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = "http/json";
    process.env.OTEL_NODE_RESOURCE_DETECTORS = "none";
    const { createTracing } = await import("../../src/observability/tracing-sdk.js");
    tracing = createTracing({ service: "conflicts" });
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
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  });

  it("counts the conflict and its retry", async () => {
    const text = await metrics.metrics();
    expect(text).toContain('knstate_conflicts_total{entity_type="counter"} 1');
    expect(text).toContain('knstate_conflict_retries_total{entity_type="counter"} 1');
    expect(text).toContain(
      'knstate_commands_total{entity_type="counter",command="increment",outcome="ok"} 3',
    );
  });

  it("shows the retry as a child span, between two loads and two handler runs", () => {
    const trace = spans.filter((s) => s.traceId === hotTrace);
    const process = trace.find((s) => s.name === "process com.example.counter.increment")!;
    expect(process).toBeDefined();
    const children = trace.filter((s) => s.parentSpanId === process.spanId).map((s) => s.name);
    expect(children.filter((n) => n === "retry after conflict")).toHaveLength(1);
    expect(children.filter((n) => n === "handle counter.increment")).toHaveLength(2);
    expect(children.filter((n) => n === "append events")).toHaveLength(1);
    const retry = trace.find((s) => s.name === "retry after conflict")!;
    expect(retry.attributes?.find((a) => a.key === "knstate.attempt")?.value.intValue).toEqual(1);
    // Loads: the first one (cache miss) and the reload after the conflict.
    expect(children.filter((n) => n === "load state").length).toBeGreaterThanOrEqual(1);
  });

  it("gives each event of a batch its own span in its own trace", () => {
    for (const [i, trace] of batchTraces.entries()) {
      const process = spans.find((s) => s.traceId === trace && s.name.startsWith("process "));
      expect(process, `batch event ${i}`).toBeDefined();
      const id = process!.attributes?.find((a) => a.key === "cloudevents.event_id")?.value.stringValue;
      expect(id).toBe(`batch-${i}`);
    }
  });
});

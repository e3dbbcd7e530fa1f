import { describe, expect, it } from "vitest";
import { batchConfig, otlpExportConfig, parseKeyValues } from "../../src/observability/otlp/config.js";
import { encodeJson, ProtobufBatch } from "../../src/observability/otlp/encode.js";
import { traceResource } from "../../src/observability/otlp/resource.js";
import { SpanKind, StatusCode, type SpanRecord } from "../../src/observability/otlp/span.js";
import {
  formatTraceparent,
  parseTraceparent,
  samplerFromEnv,
} from "../../src/observability/trace-context.js";
import { ids, scope, span } from "../fixtures/spans.js";
import { attr, decodeTraceExport } from "../support/otlp.js";

/** One export request in protobuf, as the exporter makes it. */
function encodeProtobuf(spans: readonly SpanRecord[], exportScope: typeof scope): Buffer {
  const batch = new ProtobufBatch(exportScope);
  for (const s of spans) batch.add(s);
  return batch.seal();
}

describe("OTLP encoding", () => {
  it("writes protobuf that an independent decoder reads as the same request as the JSON encoding", () => {
    const spans = [
      span(),
      span({ parentSpanId: undefined, remoteParent: false, traceState: undefined, links: [] }),
    ];
    spans.push(span({ status: StatusCode.unset, statusMessage: undefined, kind: SpanKind.server }));
    const fromProtobuf = decodeTraceExport(encodeProtobuf(spans, scope), "application/x-protobuf");
    const fromJson = decodeTraceExport(encodeJson(spans, scope), "application/json");
    // The JSON mapping spells int64 as strings; protobuf's decoder agrees with `longs: String`.
    expect(fromProtobuf).toEqual(JSON.parse(JSON.stringify(fromJson)));
    const first = fromProtobuf.resourceSpans[0]!.scopeSpans![0]!.spans![0]!;
    expect(first.traceId).toBe(spans[0]!.traceId);
    expect(first.parentSpanId).toBe(spans[0]!.parentSpanId);
    expect(first.kind).toBe(SpanKind.consumer);
    expect(first.startTimeUnixNano).toBe("1764000000123500000");
    expect(BigInt(first.endTimeUnixNano) - BigInt(first.startTimeUnixNano)).toBe(1_250_000n);
    expect(attr(first, "knstate.negative")).toBe(-3);
    expect(attr(first, "knstate.ratio")).toBe(0.25);
    expect(attr(first, "knstate.flag")).toBe(true);
    expect(attr(first, "knstate.unicode")).toBe("zählér ✓ 🚀");
    expect(attr(first, "knstate.long")).toHaveLength(300);
    expect(first.status).toEqual({ code: StatusCode.error, message: "store unavailable" });
    // Sampled, and the parent came from another process.
    expect(first.flags).toBe(0x301);
    const second = fromProtobuf.resourceSpans[0]!.scopeSpans![0]!.spans![1]!;
    expect(second.parentSpanId).toBeUndefined();
    expect(second.flags).toBe(0x101);
  });

  it("encodes times to the nanosecond the JSON encoding gives, across the whole range", () => {
    const spans = Array.from({ length: 500 }, () => {
      const start = Math.random() * 4e12;
      return span({ start, end: start + Math.random() * 10_000 });
    });
    spans.push(span({ start: 0, end: 2 ** 41 - 0.5 }));
    const fromProtobuf = decodeTraceExport(encodeProtobuf(spans, scope), undefined);
    const fromJson = decodeTraceExport(encodeJson(spans, scope), "application/json");
    const times = (r: typeof fromJson) =>
      r.resourceSpans[0]!.scopeSpans![0]!.spans!.map((s) => [s.startTimeUnixNano, s.endTimeUnixNano]);
    expect(times(fromProtobuf)).toEqual(times(fromJson));
  });

  it("grows past its first buffer for large batches and keeps every span", () => {
    const spans = Array.from({ length: 2000 }, (_, i) => span({ name: `span ${i}` }));
    const encoded = encodeProtobuf(spans, scope);
    expect(encoded.length).toBeGreaterThan(64 * 1024);
    const decoded = decodeTraceExport(encoded, undefined).resourceSpans[0]!.scopeSpans![0]!.spans!;
    expect(decoded.map((s) => s.name)).toEqual(spans.map((s) => s.name));
    expect(decoded.map((s) => s.spanId)).toEqual(spans.map((s) => s.spanId));
  });
});

describe("W3C trace context", () => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const spanId = "00f067aa0ba902b7";

  it("reads a valid traceparent, its sampled flag and tracestate", () => {
    expect(parseTraceparent(`00-${traceId}-${spanId}-01`, "a=1")).toEqual({
      traceId,
      spanId,
      sampled: true,
      traceState: "a=1",
    });
    expect(parseTraceparent(`00-${traceId}-${spanId}-00`)?.sampled).toBe(false);
    // A later version may carry more fields; version 00 may not.
    expect(parseTraceparent(`01-${traceId}-${spanId}-01-more`)?.traceId).toBe(traceId);
    expect(formatTraceparent({ traceId, spanId, sampled: true })).toBe(`00-${traceId}-${spanId}-01`);
  });

  it("refuses malformed ones, so a new trace starts", () => {
    for (const bad of [
      "",
      `00-${traceId}-${spanId}`,
      `00-${traceId.toUpperCase()}-${spanId}-01`,
      `00-${"0".repeat(32)}-${spanId}-01`,
      `00-${traceId}-${"0".repeat(16)}-01`,
      `ff-${traceId}-${spanId}-01`,
      `00-${traceId}-${spanId}-01-extra`,
      `0-${traceId}-${spanId}-01`,
    ]) {
      expect(parseTraceparent(bad), bad).toBeUndefined();
    }
  });

  it("generates distinct, well-formed ids", () => {
    const traces = new Set(Array.from({ length: 5000 }, () => ids.traceId()));
    const spans = new Set(Array.from({ length: 5000 }, () => ids.spanId()));
    expect(traces.size).toBe(5000);
    expect(spans.size).toBe(5000);
    for (const id of [...traces].slice(0, 50)) expect(id).toMatch(/^[0-9a-f]{32}$/);
    for (const id of [...spans].slice(0, 50)) expect(id).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("samplers", () => {
  const parent = (sampled: boolean) => ({ traceId: ids.traceId(), spanId: ids.spanId(), sampled });

  it("follows the parent by default and samples new traces", () => {
    const sample = samplerFromEnv({});
    expect(sample(ids.traceId(), undefined)).toBe(true);
    expect(sample(ids.traceId(), parent(false))).toBe(false);
    expect(sample(ids.traceId(), parent(true))).toBe(true);
  });

  it("keeps about the configured ratio of new traces, and follows sampled parents", () => {
    const sample = samplerFromEnv({
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
    });
    let kept = 0;
    for (let i = 0; i < 20_000; i++) if (sample(ids.traceId(), undefined)) kept++;
    expect(kept / 20_000).toBeGreaterThan(0.22);
    expect(kept / 20_000).toBeLessThan(0.28);
    expect(sample(ids.traceId(), parent(true))).toBe(true);
    // Not parent-based: the ratio decides even under a sampled parent, the same way for one trace.
    const ratio = samplerFromEnv({ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "0" });
    expect(ratio(ids.traceId(), parent(true))).toBe(false);
  });

  it("always_off and parentbased_always_off record nothing new", () => {
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: "always_off" })(ids.traceId(), parent(true))).toBe(false);
    const off = samplerFromEnv({ OTEL_TRACES_SAMPLER: "parentbased_always_off" });
    expect(off(ids.traceId(), undefined)).toBe(false);
    expect(off(ids.traceId(), parent(true))).toBe(true);
  });
});

describe("OTLP configuration", () => {
  it("appends /v1/traces to the general endpoint and takes the signal's endpoint as given", () => {
    expect(otlpExportConfig({}).url.href).toBe("http://localhost:4318/v1/traces");
    expect(otlpExportConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/" }).url.href).toBe(
      "http://c:4318/v1/traces",
    );
    const both = {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://t:8443/custom",
    };
    expect(otlpExportConfig(both).url.href).toBe("https://t:8443/custom");
  });

  it("reads headers, protocol, timeout and compression, signal-specific first", () => {
    const config = otlpExportConfig({
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20abc,x-tenant=a",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-tenant=b",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_TIMEOUT: "2500",
      OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: "gzip",
    });
    expect(config.headers).toEqual({ "x-tenant": "b" });
    expect(config.protocol).toBe("http/json");
    expect(config.timeoutMs).toBe(2500);
    expect(config.gzip).toBe(true);
    expect(parseKeyValues("authorization=Bearer%20abc,bad,=x,k=%E0%A4%A")).toEqual({
      authorization: "Bearer abc",
    });
  });

  it("says what is wrong with an endpoint it cannot use", () => {
    expect(() => otlpExportConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toThrow(/http/);
    expect(() => otlpExportConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "not a url" })).toThrow(/not a URL/);
  });

  it("bounds the batch by the queue", () => {
    expect(batchConfig({})).toEqual({
      maxQueueSize: 2048,
      maxExportBatchSize: 512,
      scheduleDelayMs: 5000,
      exportTimeoutMs: 30_000,
    });
    expect(batchConfig({ OTEL_BSP_MAX_QUEUE_SIZE: "100" }).maxExportBatchSize).toBe(100);
  });

  it("builds the resource: OTEL_SERVICE_NAME first, then OTEL_RESOURCE_ATTRIBUTES, detectors as asked", () => {
    const full = traceResource(
      { OTEL_RESOURCE_ATTRIBUTES: "service.name=ignored,deployment.environment.name=prod" },
      { service: "cart", revision: "cart-00002" },
    ).resource;
    expect(full).toMatchObject({
      "service.name": "ignored",
      "service.version": "cart-00002",
      "deployment.environment.name": "prod",
      "process.pid": process.pid,
      "telemetry.sdk.name": "knstate",
    });
    expect(full["service.instance.id"]).toMatch(/^[0-9a-f-]{36}$/);
    const named = traceResource(
      {
        OTEL_SERVICE_NAME: "named",
        OTEL_RESOURCE_ATTRIBUTES: "service.name=ignored",
        OTEL_NODE_RESOURCE_DETECTORS: "none",
      },
      { service: "cart" },
    ).resource;
    expect(named["service.name"]).toBe("named");
    expect(named["process.pid"]).toBeUndefined();
    expect(named["host.name"]).toBeUndefined();
  });
});

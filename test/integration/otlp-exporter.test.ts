import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/observability/logger.js";
import { batchConfig, otlpExportConfig } from "../../src/observability/otlp/config.js";
import { SpanExporter } from "../../src/observability/otlp/exporter.js";
import { scope, span } from "../fixtures/spans.js";
import { startOtlpReceiver, type OtlpReceiver } from "../support/otlp.js";

describe("SpanExporter against a real OTLP/HTTP receiver", () => {
  let receiver: OtlpReceiver;
  let warnings: string[];
  const logger = () =>
    createLogger({
      level: "warn",
      format: "json",
      write: (line) => warnings.push(JSON.parse(line).msg as string),
    });

  beforeEach(async () => {
    receiver = await startOtlpReceiver();
    warnings = [];
  });
  afterEach(() => receiver.close());

  const exporter = (env: Record<string, string>) =>
    SpanExporter.create(
      otlpExportConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, ...env }),
      batchConfig({ OTEL_BSP_SCHEDULE_DELAY: "60000", ...env }),
      scope,
      logger(),
    );

  it("sends full batches at once, the rest on flush, with the configured headers", async () => {
    const e = await exporter({
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "3",
      OTEL_EXPORTER_OTLP_HEADERS: "x-token=abc",
    });
    const spans = Array.from({ length: 7 }, (_, i) => span({ name: `s${i}` }));
    for (const s of spans) e.add(s);
    await e.shutdown();
    expect(receiver.requests.map((r) => r.body.resourceSpans[0]!.scopeSpans![0]!.spans!.length)).toEqual([
      3, 3, 1,
    ]);
    expect(receiver.spans.map((s) => s.name)).toEqual(spans.map((s) => s.name));
    expect(receiver.requests[0]!.headers["x-token"]).toBe("abc");
    expect(receiver.requests[0]!.headers["content-type"]).toBe("application/x-protobuf");
    expect(receiver.resources[0]).toMatchObject({
      attributes: expect.arrayContaining([{ key: "service.name", value: { stringValue: "svc" } }]),
    });
  });

  it("retries 503 and 429 with backoff, gzip-compressed when asked", async () => {
    receiver.failNext([503, 429]);
    const e = await exporter({ OTEL_EXPORTER_OTLP_COMPRESSION: "gzip" });
    e.add(span({ name: "kept" }));
    await e.shutdown();
    expect(receiver.spans.map((s) => s.name)).toEqual(["kept"]);
    expect(receiver.requests[0]!.headers["content-encoding"]).toBe("gzip");
    expect(warnings).toEqual([]);
  });

  it("drops a batch the collector refuses, and says so", async () => {
    receiver.failNext([400]);
    const e = await exporter({});
    e.add(span());
    await e.shutdown();
    expect(receiver.spans).toEqual([]);
    expect(warnings).toEqual([
      "tracing: exporting spans failed: the collector answered 400; spans dropped so far: 1",
    ]);
  });

  it("drops spans beyond a full queue instead of growing, and says so", async () => {
    const e = await exporter({ OTEL_BSP_MAX_QUEUE_SIZE: "5", OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "5" });
    receiver.failNext([503, 503, 503]);
    for (let i = 0; i < 12; i++) e.add(span({ name: `s${i}` }));
    await e.shutdown();
    expect(receiver.spans.length).toBeLessThan(12);
    expect(receiver.spans.length).toBeGreaterThanOrEqual(5);
    expect(warnings[0]).toMatch(/the span queue is full/);
  });

  it("gives up on an unreachable collector within the export timeout", async () => {
    const e = await SpanExporter.create(
      otlpExportConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" }),
      batchConfig({ OTEL_BSP_EXPORT_TIMEOUT: "300" }),
      scope,
      logger(),
    );
    e.add(span());
    const started = performance.now();
    await e.shutdown();
    expect(performance.now() - started).toBeLessThan(3000);
    expect(warnings[0]).toMatch(/exporting spans failed: .*ECONNREFUSED/);
  });
});

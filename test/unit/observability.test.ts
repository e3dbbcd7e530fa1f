import { describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/observability/logger.js";
import { combineObservers, combineWrappers } from "../../src/observability/observers.js";
import { redactUrl } from "../../src/observability/redact.js";
import { CommandRejected, HostError } from "../../src/errors/host-error.js";
import { Problem } from "../../src/errors/problems.js";
import type { PipelineObserver } from "../../src/observability/pipeline-observer.js";
import { logFailure } from "../../src/http/problem.js";
import { eventTrace, setEventTrace } from "../../src/observability/tracing.js";
import { sdkNeededFor, startTracing, tracingConfigured } from "../../src/observability/start-tracing.js";

describe("tracingConfigured", () => {
  it("is off without OTEL_* variables and on with an OTLP endpoint", () => {
    expect(tracingConfigured({})).toBe(false);
    expect(tracingConfigured({ OTEL_SERVICE_NAME: "x" })).toBe(false);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toBe(true);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:4318/v1/traces" })).toBe(true);
    expect(tracingConfigured({ OTEL_TRACES_EXPORTER: "console" })).toBe(true);
  });

  it("stays off when the exporter is none or the SDK is disabled", () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" };
    expect(tracingConfigured({ ...endpoint, OTEL_TRACES_EXPORTER: "none" })).toBe(false);
    expect(tracingConfigured({ ...endpoint, OTEL_SDK_DISABLED: "true" })).toBe(false);
    expect(tracingConfigured({ ...endpoint, OTEL_EXPORTER_OTLP_ENDPOINT: " " })).toBe(false);
  });
});

describe("startTracing", () => {
  it("starts nothing when tracing is off", async () => {
    const logger = createLogger({ level: "silent", format: "json" });
    await expect(startTracing({}, { service: "s", logger })).resolves.toBeUndefined();
  });

  it("starts knstate's tracer for OTLP over HTTP, and logs the endpoint without its password", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", format: "json", write: (l) => lines.push(l) });
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: "https://user:s3cret@collector.invalid:4318" };
    const tracing = await startTracing(env, { service: "s", logger });
    expect(typeof tracing?.observer.traceEvent).toBe("function");
    await tracing!.shutdown(1000);
    const on = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "tracing on");
    expect(on).toMatchObject({
      tracer: "knstate",
      endpoint: expect.stringContaining("user:***@collector.invalid"),
    });
    expect(lines.join("\n")).not.toContain("s3cret");
  });

  it("starts the OpenTelemetry SDK when the environment asks for what only it offers", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", format: "json", write: (l) => lines.push(l) });
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9", OTEL_PROPAGATORS: "b3" };
    const tracing = await startTracing(env, { service: "s", logger });
    await tracing!.shutdown(1000);
    const on = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "tracing on");
    expect(on).toMatchObject({ tracer: "opentelemetry-sdk-node", sdkFor: "OTEL_PROPAGATORS=b3" });
  });
});

describe("sdkNeededFor", () => {
  it("is undefined for OTLP over HTTP with W3C propagation and a standard sampler", () => {
    expect(sdkNeededFor({})).toBeUndefined();
    expect(
      sdkNeededFor({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }),
    ).toBeUndefined();
    expect(sdkNeededFor({ OTEL_PROPAGATORS: "tracecontext,baggage" })).toBeUndefined();
    expect(
      sdkNeededFor({ OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" }),
    ).toBeUndefined();
  });

  it("names what needs the SDK", () => {
    expect(sdkNeededFor({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toBe("OTLP protocol grpc");
    expect(sdkNeededFor({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" })).toBe("OTLP protocol grpc");
    expect(sdkNeededFor({ OTEL_TRACES_EXPORTER: "console" })).toBe("OTEL_TRACES_EXPORTER=console");
    expect(sdkNeededFor({ OTEL_TRACES_EXPORTER: "otlp,zipkin" })).toBe("OTEL_TRACES_EXPORTER=otlp,zipkin");
    expect(sdkNeededFor({ OTEL_PROPAGATORS: "tracecontext,b3" })).toBe("OTEL_PROPAGATORS=tracecontext,b3");
    expect(sdkNeededFor({ OTEL_TRACES_SAMPLER: "jaeger_remote" })).toBe("OTEL_TRACES_SAMPLER=jaeger_remote");
  });
});

describe("redactUrl", () => {
  it("masks passwords and secret-like query parameters", () => {
    expect(redactUrl("redis://default:hunter2@redis:6379/0")).toBe("redis://default:***@redis:6379/0");
    expect(redactUrl("http://collector:4318/?token=abc&x=1")).toBe("http://collector:4318/?token=***&x=1");
    expect(redactUrl("http://collector:4318")).toBe("http://collector:4318");
    expect(redactUrl("not a url user:pw@x")).toBe("not a url user:pw@x");
  });
});

describe("combineObservers", () => {
  it("forwards to every observer, class methods included", () => {
    const calls: string[] = [];
    class Counting implements PipelineObserver {
      committed(entityType: string) {
        calls.push(`class:${entityType}`);
      }
    }
    const literal: PipelineObserver = {
      committed: (entityType) => calls.push(`literal:${entityType}`),
      dedupHit: () => calls.push("dedup"),
    };
    const combined = combineObservers(new Counting(), literal, undefined);
    combined.committed?.("counter", "c1", 1, []);
    combined.dedupHit?.("counter");
    expect(calls).toEqual(["class:counter", "literal:counter", "dedup"]);
  });

  it("calls every observer's hook and omits hooks nobody has", () => {
    const a = vi.fn();
    const b = vi.fn();
    const combined = combineObservers({ dedupHit: a }, undefined, { dedupHit: b, inFlight: vi.fn() });
    combined.dedupHit?.("counter");
    expect(a).toHaveBeenCalledWith("counter");
    expect(b).toHaveBeenCalledWith("counter");
    expect("handled" in combined).toBe(false);
    expect("traceEvent" in combined).toBe(false);
    expect(combineObservers()).toEqual({});
  });

  it("nests request wrappers, the first outermost", async () => {
    const order: string[] = [];
    const wrap =
      (name: string) => (_k: unknown, _q: unknown, _s: unknown, next: () => Promise<void> | void) => {
        order.push(name);
        return next();
      };
    const combined = combineWrappers(wrap("a"), undefined, wrap("b"));
    await combined!("api", {} as never, {} as never, () => {
      order.push("handler");
    });
    expect(order).toEqual(["a", "b", "handler"]);
    expect(combineWrappers(undefined)).toBeUndefined();
  });
});

describe("logger", () => {
  it("masks passwords in URLs it is given", () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", format: "json", write: (l) => lines.push(l) });
    logger.info("connecting", { url: "redis://default:hunter2@redis:6379", sink: "http://broker/ns" });
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line.url).toBe("redis://default:***@redis:6379");
    expect(line.sink).toBe("http://broker/ns");
  });
});

describe("a failure's trace", () => {
  it("goes to the log line, per event; the error is shared untouched, class and fields kept", () => {
    const first = { traceId: "a".repeat(32), spanId: "b".repeat(16), sampled: true, ceId: "e1" };
    const second = { traceId: "c".repeat(32), spanId: "d".repeat(16), sampled: true, ceId: "e2" };
    const events = [{ id: "e1" }, { id: "e2" }];
    setEventTrace(events[0]!, first);
    setEventTrace(events[1]!, second);
    const error = new HostError(Problem.storeUnavailable, "down");
    const before = { ...error, problem: error.toProblem() };
    const lines: string[] = [];
    const logger = createLogger({ level: "info", format: "json", write: (l) => lines.push(l) });
    for (const event of events) logFailure(logger, error, { ceId: event.id }, eventTrace(event));
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.map((l) => [l.traceId, l.spanId])).toEqual([
      [first.traceId, first.spanId],
      [second.traceId, second.spanId],
    ]);
    expect({ ...error, problem: error.toProblem() }).toEqual(before);
    expect(Object.keys(error)).not.toContain("trace");
    expect(error.status).toBe(503);
    const rejected = new CommandRejected("out of stock", { sku: "x" });
    expect(rejected).toBeInstanceOf(CommandRejected);
    expect(rejected.message).toBe("out of stock");
    expect(eventTrace({ id: "e3" })).toBeUndefined();
  });
});

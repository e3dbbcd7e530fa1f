import { describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/observability/logger.js";
import { combineObservers, combineWrappers } from "../../src/observability/observers.js";
import { redactUrl } from "../../src/observability/redact.js";
import { startTracing, tracingConfigured } from "../../src/observability/tracing.js";

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
  it("never loads the SDK when tracing is off", async () => {
    const load = vi.fn(() => Promise.reject(new Error("must not load")));
    const logger = createLogger({ level: "silent", format: "json" });
    await expect(startTracing({}, { service: "s", logger }, load)).resolves.toBeUndefined();
    expect(load).not.toHaveBeenCalled();
  });

  it("loads it once when an endpoint is set, and logs the endpoint without its password", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", format: "json", write: (l) => lines.push(l) });
    const tracing = { observer: {}, wrapRequest: vi.fn(), logContext: () => undefined, shutdown: vi.fn() };
    const load = vi.fn(() => Promise.resolve({ createTracing: () => tracing }));
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: "https://user:s3cret@collector:4318" };
    await expect(startTracing(env, { service: "s", logger }, load)).resolves.toBe(tracing);
    expect(load).toHaveBeenCalledTimes(1);
    expect(lines.join("\n")).toContain("tracing on");
    expect(lines.join("\n")).not.toContain("s3cret");
  });
});

describe("startTracing options", () => {
  it("leaves the service name to OTEL_SERVICE_NAME when it is set", async () => {
    const logger = createLogger({ level: "silent", format: "json" });
    const seen: unknown[] = [];
    const tracing = { observer: {}, wrapRequest: vi.fn(), logContext: () => undefined, shutdown: vi.fn() };
    const load = () =>
      Promise.resolve({
        createTracing: (o: unknown) => {
          seen.push(o);
          return tracing;
        },
      });
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" };
    await startTracing(
      { ...endpoint, OTEL_SERVICE_NAME: "cart" },
      { service: "svc", revision: "r1", logger },
      load,
    );
    await startTracing(endpoint, { service: "svc", logger }, load);
    expect(seen).toEqual([
      { service: "svc", revision: "r1", serviceNameSet: true },
      { service: "svc", revision: undefined, serviceNameSet: false },
    ]);
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

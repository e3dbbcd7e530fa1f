import { describe, expect, expectTypeOf, it } from "vitest";
import { settings } from "../../src/config/settings.js";
import {
  ConfigError,
  KNATIVE_RESERVED_PORTS,
  loadConfig,
  type HostConfig,
} from "../../src/config/load-config.js";

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("fills every default, with units resolved, in a frozen object", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: "0.0.0.0",
      metricsPort: 9464,
      store: "memory",
      redisUrl: "redis://127.0.0.1:6379",
      redisClusterNodes: undefined,
      redisCommandTimeoutMs: 2000,
      cache: true,
      groupCommit: true,
      conflictRetries: 10,
      dedupTtlMs: 10 * 60_000,
      bodyLimitBytes: 1024 * 1024,
      shutdownTimeoutMs: 25_000,
      requestTimeoutMs: 30_000,
      logLevel: "info",
      logFormat: "json",
      service: "knstate",
      revision: undefined,
    });
    expect(Object.isFrozen(config)).toBe(true);
    for (const setting of settings) expect(Object.hasOwn(config, setting.key), setting.key).toBe(true);
  });

  it("reads the environment it is given, not process.env", () => {
    const saved = process.env.PORT;
    process.env.PORT = "1234";
    try {
      expect(loadConfig({}).port).toBe(8080);
      expect(loadConfig({ PORT: "3000" }).port).toBe(3000);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });

  it("reads Knative's variables and every kind of setting from the environment", () => {
    const config = loadConfig({
      PORT: "3000",
      K_SERVICE: "counter",
      K_REVISION: "counter-00001",
      K_CONFIGURATION: "counter",
      KNSTATE_STORE: "redis",
      REDIS_CLUSTER_NODES: " 10.0.0.1:6379, 10.0.0.2:6379 ,",
      KNSTATE_CACHE: "off",
      KNSTATE_GROUP_COMMIT: "no",
      KNSTATE_CONFLICT_RETRIES: "3",
      KNSTATE_LOG_LEVEL: "warn",
    });
    expect(config).toMatchObject({
      port: 3000,
      service: "counter",
      revision: "counter-00001",
      configuration: "counter",
      store: "redis",
      redisClusterNodes: ["10.0.0.1:6379", "10.0.0.2:6379"],
      cache: false,
      groupCommit: false,
      conflictRetries: 3,
      logLevel: "warn",
    });
  });

  it("treats empty and blank variables as unset", () => {
    expect(loadConfig({ PORT: "", KNSTATE_BODY_LIMIT: "   " })).toMatchObject({
      port: 8080,
      bodyLimitBytes: 1048576,
    });
  });

  it("lets flags win over the environment", () => {
    const config = loadConfig(
      { PORT: "3000", KNSTATE_LOG_LEVEL: "warn" },
      { port: "4000", "log-level": "debug" },
    );
    expect(config.port).toBe(4000);
    expect(config.logLevel).toBe("debug");
  });

  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["1.5s", 1500],
    ["5m", 300_000],
    ["24h", 86_400_000],
    ["250", 250],
    ["2S", 2000],
  ])("reads the duration %s as %d ms", (raw, ms) => {
    expect(loadConfig({ KNSTATE_REQUEST_TIMEOUT: raw }).requestTimeoutMs).toBe(ms);
  });

  it.each([
    ["512kb", 512 * 1024],
    ["1mb", 1024 * 1024],
    ["2MB", 2 * 1024 * 1024],
    ["100b", 100],
    ["4096", 4096],
  ])("reads the size %s as %d bytes", (raw, bytes) => {
    expect(loadConfig({ KNSTATE_BODY_LIMIT: raw }).bodyLimitBytes).toBe(bytes);
  });

  it.each(KNATIVE_RESERVED_PORTS.map((p) => [p]))("refuses Knative's reserved port %d", (port) => {
    const error = configError(() => loadConfig({ PORT: String(port) }));
    expect(error.problems).toEqual([
      expect.stringMatching(new RegExp(`port ${port} is reserved by Knative`)),
    ]);
    expect(configError(() => loadConfig({ METRICS_PORT: String(port) })).problems[0]).toMatch(/metricsPort/);
  });

  it("refuses the same port for traffic and metrics, except 0", () => {
    expect(configError(() => loadConfig({ PORT: "9000", METRICS_PORT: "9000" })).message).toMatch(
      /must differ/,
    );
    expect(loadConfig({ PORT: "0", METRICS_PORT: "0" })).toMatchObject({ port: 0, metricsPort: 0 });
  });

  it("lists every problem in one ConfigError, naming where each value came from", () => {
    const error = configError(() =>
      loadConfig(
        {
          PORT: "eighty",
          KNSTATE_STORE: "mongo",
          KNSTATE_BODY_LIMIT: "lots",
          KNSTATE_CACHE: "maybe",
          KNSTATE_REQUEST_TIMEOUT: "-1s",
          KNSTATE_CONFLICT_RETRIES: "99999999999999999999",
        },
        { "metrics-port": "70000" },
      ),
    );
    expect(error.problems).toHaveLength(7);
    const text = error.problems.join("\n");
    for (const name of [
      "PORT",
      "KNSTATE_STORE",
      "KNSTATE_BODY_LIMIT",
      "KNSTATE_CACHE",
      "KNSTATE_REQUEST_TIMEOUT",
      "KNSTATE_CONFLICT_RETRIES",
      "--metrics-port",
    ]) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/must be one of memory, redis/);
    expect(text).toMatch(/must be a duration such as/);
    expect(text).toMatch(/must be a port number/);
    expect(text).toMatch(/too large/);
    for (const problem of error.problems) expect(error.message).toContain(problem);
  });

  it("reads what Knative's SinkBinding sets, the function list and the OTEL_* variables as they are", () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    const config = loadConfig({
      K_SINK: "http://broker-ingress.knative-eventing.svc/ns/default",
      K_CE_OVERRIDES: '{"extensions":{"tenant":"acme"}}',
      K_CA_CERTS: pem,
      K_SINK_TIMEOUT: "2.5",
      KNSTATE_FUNCTIONS: "./functions/counter,./functions/echo",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      OTEL_TRACES_SAMPLER: "always_on",
      NOT_OTEL_X: "y",
    });
    expect(config).toMatchObject({
      sink: "http://broker-ingress.knative-eventing.svc/ns/default",
      ceOverrides: '{"extensions":{"tenant":"acme"}}',
      caCerts: pem,
      sinkTimeoutMs: 2500,
      functions: ["./functions/counter", "./functions/echo"],
    });
    expect(config.otel).toEqual({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      OTEL_TRACES_SAMPLER: "always_on",
    });
    expect(loadConfig({})).toMatchObject({
      sink: undefined,
      sinkTimeoutMs: 5000,
      sinkQueueMax: 1000,
      otel: {},
    });
  });

  it("lists bad SinkBinding values in the same ConfigError as the rest", () => {
    const error = configError(() =>
      loadConfig({
        K_SINK: "ftp://sink",
        K_CE_OVERRIDES: "{not json",
        K_CA_CERTS: "not a certificate",
        K_SINK_TIMEOUT: "0",
        PORT: "x",
      }),
    );
    expect(error.problems).toHaveLength(5);
    const text = error.problems.join("\n");
    expect(text).toMatch(/K_SINK must be an http\(s\) URL, not "ftp:\/\/sink"/);
    expect(text).toMatch(/K_CE_OVERRIDES must be a JSON object/);
    expect(text).toMatch(/K_CA_CERTS must hold PEM certificates/);
    expect(text).toMatch(/K_SINK_TIMEOUT must be a number of seconds \(more than 0\), not "0"/);
  });

  it("types every row from its kind and default", () => {
    expectTypeOf<HostConfig["port"]>().toEqualTypeOf<number>();
    expectTypeOf<HostConfig["store"]>().toEqualTypeOf<"memory" | "redis">();
    expectTypeOf<HostConfig["logLevel"]>().toEqualTypeOf<"debug" | "info" | "warn" | "error" | "silent">();
    expectTypeOf<HostConfig["redisClusterNodes"]>().toEqualTypeOf<readonly string[] | undefined>();
    expectTypeOf<HostConfig["revision"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<HostConfig["cache"]>().toEqualTypeOf<boolean>();
    expectTypeOf<HostConfig["otel"]>().toEqualTypeOf<Readonly<Record<string, string>>>();
    const keys = settings.map((s) => s.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(settings.map((s) => s.env)).size).toBe(keys.length);
  });
});

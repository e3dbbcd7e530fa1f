import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { createMetricsServer } from "../../src/http/metrics-server.js";
import { silentLogger } from "../../src/observability/logger.js";
import { createTelemetry, type Telemetry } from "../../src/observability/telemetry.js";
import { startHost, type RunningHost } from "../support/host.js";
import { freePort } from "../support/ports.js";

let telemetry: Telemetry | undefined;
let running: RunningHost | undefined;
afterEach(async () => {
  await running?.close();
  await telemetry?.close();
  running = telemetry = undefined;
});

describe("telemetry", () => {
  it("counts commands that ran before prom-client was loaded", async () => {
    const config = loadConfig({
      METRICS_PORT: String(await freePort()),
      ADMIN_PORT: "0",
      PORT: "0",
      KNSTATE_HOST: "127.0.0.1",
    });
    telemetry = createTelemetry({ config, logger: silentLogger, serveMetrics: createMetricsServer });
    expect(telemetry.metrics).toBeUndefined();
    // What the pipeline reports for the first commands, before the host has finished starting.
    telemetry.observer.commandFinished?.("counter", "increment", "ok", 0.002);
    telemetry.observer.commandFinished?.("counter", "increment", "rejected", 0.001);
    running = await startHost({ observer: telemetry.observer });
    const port = await telemetry.started(running.host);
    telemetry.observer.commandFinished?.("counter", "increment", "ok", 0.003);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toContain(
      'knstate_commands_total{entity_type="counter",command="increment",outcome="ok"} 2',
    );
    expect(text).toContain(
      'knstate_commands_total{entity_type="counter",command="increment",outcome="rejected"} 1',
    );
  });

  it("loads no metrics at all when the metrics port is 0", async () => {
    telemetry = createTelemetry({
      config: loadConfig({ METRICS_PORT: "0", ADMIN_PORT: "0", PORT: "0" }),
      logger: silentLogger,
      serveMetrics: createMetricsServer,
    });
    running = await startHost({ observer: telemetry.observer });
    expect(await telemetry.started(running.host)).toBeUndefined();
    expect(telemetry.metrics).toBeUndefined();
  });
});

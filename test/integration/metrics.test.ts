import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetricsServer, type MetricsServer } from "../../src/http/metrics-server.js";
import { HostMetrics } from "../../src/observability/metrics.js";
import { silentLogger } from "../../src/observability/logger.js";
import { postEvent, spawnHost, startHost, type RunningHost } from "../support/host.js";
import { freePort } from "../support/ports.js";

/** Samples of a Prometheus text exposition: `name{labels}` → value. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

const INCREMENT = "com.example.counter.increment";

describe("metrics", () => {
  let host: RunningHost;
  let metrics: HostMetrics;
  let server: MetricsServer;
  let metricsUrl: string;

  const scrape = async () => {
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    return res.text();
  };
  const value = (samples: Map<string, number>, name: string, labels: Record<string, string>) => {
    for (const [key, v] of samples) {
      if (key !== name && !key.startsWith(`${name}{`)) continue;
      if (Object.entries(labels).every(([k, lv]) => key.includes(`${k}="${lv}"`))) return v;
    }
    return undefined;
  };

  beforeAll(async () => {
    metrics = new HostMetrics({
      faas: { name: "counter-fn", version: "counter-fn-00001", instance: "pod-a" },
      service: "counter-fn",
      revision: "counter-fn-00001",
      conflictRetries: 10,
    });
    host = await startHost({ observer: metrics.observer, wrapRequest: metrics.wrapRequest });
    metrics.declare(host.host.registry.entities);
    server = createMetricsServer(metrics.registry, silentLogger);
    metricsUrl = `http://127.0.0.1:${await server.listen(0, "127.0.0.1")}/metrics`;
  });
  afterAll(async () => {
    await host?.close();
    await server?.close();
  });

  it("keeps /metrics off the public port", async () => {
    const res = await fetch(`${host.url}/metrics`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain("knstate_");
    const other = await fetch(metricsUrl.replace("/metrics", "/other"));
    expect(other.status).toBe(404);
  });

  it("counts known commands by outcome, exactly", async () => {
    const before = parse(await scrape());
    expect(
      value(before, "knstate_commands_total", {
        entity_type: "counter",
        command: "increment",
        outcome: "ok",
      }),
    ).toBe(0);

    for (const id of ["e1", "e2", "e3"]) {
      expect(
        (await postEvent(host.url, { id, type: INCREMENT, subject: "c1", data: { by: 1 } })).status,
      ).toBe(200);
    }
    // A redelivery: answered from the dedup record (an ok command and a dedup hit).
    expect(
      (await postEvent(host.url, { id: "e1", type: INCREMENT, subject: "c1", data: { by: 1 } })).status,
    ).toBe(200);
    // Rejected: the counter would leave the safe integer range.
    const max = Number.MAX_SAFE_INTEGER;
    expect(
      (await postEvent(host.url, { id: "r1", type: INCREMENT, subject: "c2", data: { by: max } })).status,
    ).toBe(200);
    expect(
      (await postEvent(host.url, { id: "r2", type: INCREMENT, subject: "c2", data: { by: 1 } })).status,
    ).toBe(422);
    // Invalid: data the schema refuses, and a type nobody declared.
    expect(
      (await postEvent(host.url, { id: "i1", type: INCREMENT, subject: "c3", data: { by: "x" } })).status,
    ).toBe(400);
    expect(
      (await postEvent(host.url, { id: "u1", type: "com.example.nope.boom", subject: "c4", data: {} }))
        .status,
    ).toBe(400);
    // Probes are not traffic.
    expect((await fetch(`${host.url}/readyz`)).status).toBe(200);
    const probe = await fetch(`${host.url}/counter/c1`, { headers: { "user-agent": "kube-probe/1.31" } });
    expect(probe.status).toBe(200);
    const queueProxyProbe = await fetch(`${host.url}/counter/c1`, {
      headers: { "k-network-probe": "queue" },
    });
    expect(queueProxyProbe.status).toBe(200);

    const after = parse(await scrape());
    const commands = (outcome: string, entity_type = "counter", command = "increment") =>
      value(after, "knstate_commands_total", { entity_type, command, outcome });
    expect(commands("ok")).toBe(5);
    expect(commands("rejected")).toBe(1);
    expect(commands("invalid")).toBe(1);
    expect(commands("error")).toBe(0);
    expect(commands("conflict-exhausted")).toBe(0);
    expect(commands("invalid", "_unknown", "_unknown")).toBe(1);
    expect(
      value(after, "knstate_command_duration_seconds_count", {
        entity_type: "counter",
        command: "increment",
      }),
    ).toBe(6);
    expect(
      value(after, "knstate_command_duration_seconds_bucket", {
        entity_type: "counter",
        command: "increment",
        le: "+Inf",
      }),
    ).toBe(6);
    expect(value(after, "knstate_dedup_hits_total", { entity_type: "counter" })).toBe(1);
    expect(value(after, "knstate_appended_events_total", { entity_type: "counter" })).toBe(4);
    expect(value(after, "knstate_http_requests_total", { kind: "cloudevent", status_class: "2xx" })).toBe(5);
    expect(value(after, "knstate_http_requests_total", { kind: "cloudevent", status_class: "4xx" })).toBe(3);
    const delta = (name: string, labels: Record<string, string>) =>
      (value(after, name, labels) ?? 0) - (value(before, name, labels) ?? 0);
    expect(delta("knstate_http_requests_total", { kind: "api", status_class: "2xx" })).toBe(0);
    expect(value(after, "knstate_commands_in_flight", {})).toBe(0);
    expect(value(after, "knstate_store_up", {})).toBe(1);
    expect(delta("faas_invocations", { faas_name: "counter-fn", faas_version: "counter-fn-00001" })).toBe(8);
    expect(value(after, "faas_errors", { faas_name: "counter-fn" })).toBe(0);
    expect(delta("faas_execution_latency_count", { faas_runtime: "Node.js" })).toBe(8);
    // Cache: every command after an entity's first load finds it in process.
    const hits = value(after, "knstate_cache_lookups_total", { entity_type: "counter", result: "hit" }) ?? 0;
    const misses =
      value(after, "knstate_cache_lookups_total", { entity_type: "counter", result: "miss" }) ?? 0;
    expect(hits + misses).toBeGreaterThan(0);
    expect(
      value(after, "knstate_state_load_duration_seconds_count", { entity_type: "counter" }),
    ).toBeGreaterThanOrEqual(2);
    // Process metrics from collectDefaultMetrics.
    expect([...after.keys()].some((k) => k.startsWith("nodejs_eventloop_lag_seconds"))).toBe(true);
    expect([...after.keys()].some((k) => k.startsWith("nodejs_heap_size_used_bytes"))).toBe(true);
  });

  it("never turns entity ids or unknown names into label values", async () => {
    const series = async () =>
      [...parse(await scrape()).keys()].filter((k) => k.startsWith("knstate_") || k.startsWith("faas_"))
        .length;
    await postEvent(host.url, { id: "warm", type: INCREMENT, subject: "warm", data: { by: 1 } });
    const before = await series();
    for (let chunk = 0; chunk < 20; chunk++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          const n = chunk * 50 + i;
          return postEvent(host.url, {
            id: `s${n}`,
            type: INCREMENT,
            subject: `subject-${n}`,
            data: { by: 1 },
          });
        }),
      );
    }
    for (const type of ["com.example.x.y", "com.example.counter.nope", "zzz"]) {
      expect((await postEvent(host.url, { id: type, type, subject: "a", data: {} })).status).toBe(400);
    }
    const text = await scrape();
    expect(await series()).toBe(before);
    expect(text).not.toContain("subject-");
    expect(text).not.toContain("nope");
    const samples = parse(text);
    expect(
      value(samples, "knstate_commands_total", {
        entity_type: "counter",
        command: "increment",
        outcome: "ok",
      }),
    ).toBeGreaterThanOrEqual(1000);
  });
});

describe("metrics of knstate serve", () => {
  it("serves /metrics on METRICS_PORT next to the public port, from start to SIGTERM", async () => {
    const metricsPort = await freePort();
    const host = await spawnHost({
      functions: ["counter"],
      env: {
        METRICS_PORT: String(metricsPort),
        ADMIN_PORT: "0",
        K_SERVICE: "counter-svc",
        K_REVISION: "counter-svc-00002",
      },
    });
    try {
      const url = `http://127.0.0.1:${metricsPort}/metrics`;
      expect(
        (await postEvent(host.url, { id: "a", type: INCREMENT, subject: "x", data: { by: 1 } })).status,
      ).toBe(200);
      expect((await fetch(`${host.url}/metrics`)).status).toBe(404);
      const samples = parse(await (await fetch(url)).text());
      expect(
        samples.get('knstate_commands_total{entity_type="counter",command="increment",outcome="ok"}'),
      ).toBe(1);
      expect(samples.get('knstate_commands_total{entity_type="counter",command="reset",outcome="ok"}')).toBe(
        0,
      );
      expect(samples.get("knstate_store_up")).toBe(1);
      expect(
        samples.get(
          'knstate_info{k_service="counter-svc",k_revision="counter-svc-00002",k_configuration=""}',
        ),
      ).toBe(1);
      const coldStart = [...samples].find(([k]) => k.startsWith("faas_cold_start_latency_count{"));
      expect(coldStart?.[0]).toContain('faas_name="counter-svc"');
      expect(coldStart?.[0]).toContain('faas_version="counter-svc-00002"');
      expect(coldStart?.[1]).toBe(1);
      expect(await host.stop("SIGTERM")).toBe(0);
      await expect(fetch(url)).rejects.toThrow();
    } finally {
      await host.stop("SIGKILL");
    }
  });
});

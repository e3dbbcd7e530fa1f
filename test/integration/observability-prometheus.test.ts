import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import counter from "../../functions/counter/index.js";
import type { Component } from "../../src/entity/define.js";
import { loadConfig } from "../../src/config/load-config.js";
import { relayFromConfig } from "../../src/outbox/from-config.js";
import { whenMetricsReady } from "../../src/outbox/metrics.js";
import { createMetricsServer } from "../../src/http/metrics-server.js";
import { silentLogger } from "../../src/observability/logger.js";
import { AfterCommit } from "../../src/store/after-commit.js";
import { createTelemetry, type Telemetry } from "../../src/observability/telemetry.js";
import { postEvent, startHost, type RunningHost } from "../support/host.js";
import { freePort } from "../support/ports.js";
import { prometheusAvailable, startPrometheus, type PrometheusServer } from "../support/prometheus.js";
import {
  dashboard,
  labelValuesQuery,
  measuredSide,
  rules,
  RULES,
  SCRAPE_CONFIG,
  substitute,
} from "./observability-shipped.js";

/** The shipped dashboard and rules queried on a real Prometheus scraping a host under load. */

const available = prometheusAvailable();

describe.runIf(available)("shipped dashboards and rules against a real Prometheus", () => {
  let dir: string;
  let host: RunningHost;
  let telemetry: Telemetry;
  let prom: PrometheusServer;
  let sent = 0;
  // The Redis store's work after commits (the host here runs on the memory store).
  const afterCommit = new AfterCommit();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "knstate-observability-"));
    // Evaluate the shipped rules every second instead of every 30s.
    const fast = { groups: rules.groups.map((g) => ({ ...g, interval: "1s" })) };
    writeFileSync(join(dir, "rules.yaml"), stringify(fast));

    const config = loadConfig({
      METRICS_PORT: String(await freePort()),
      ADMIN_PORT: "0",
      PORT: "0",
      KNSTATE_HOST: "127.0.0.1",
      K_SERVICE: "counter-svc",
      K_REVISION: "counter-svc-00001",
      POD_NAME: "counter-svc-00001-abc",
    });
    telemetry = createTelemetry({
      config,
      logger: silentLogger,
      afterCommit,
      serveMetrics: createMetricsServer,
    });
    host = await startHost({ observer: telemetry.observer, wrapRequest: telemetry.wrapRequest! });
    const metricsPort = await telemetry.started(host.host);
    // The outbox row and alert: the relay of a publishing counter (not started: its sink is never
    // reached), whose series are registered as \`knstate serve\` registers them with K_SINK set.
    const outbox = await relayFromConfig(
      { ...config, sink: "http://127.0.0.1:9/" },
      host.host.store,
      [counter as unknown as Component],
      silentLogger,
    );
    if (outbox === undefined) throw new Error("the counter publishes: its relay must exist");
    whenMetricsReady(() => telemetry.metrics?.registry, outbox.relay);
    prom = await startPrometheus({
      targets: [`127.0.0.1:${metricsPort}`],
      // What the scrape configuration's relabeling sets from the pod in Kubernetes.
      labels: {
        service: "counter-svc",
        revision: "counter-svc-00001",
        pod: "counter-svc-00001-abc",
        namespace: "default",
      },
      ruleFiles: [join(dir, "rules.yaml")],
    });

    // A small, known load for about 5 seconds: ok, rejected, invalid, duplicate and API commands.
    const until = Date.now() + 5000;
    for (let round = 0; round < 100 && Date.now() < until; round++) {
      const ok = Array.from({ length: 5 }, (_, i) =>
        postEvent(host.url, {
          id: `ok-${round}-${i}`,
          type: "com.example.counter.increment",
          subject: `c${i}`,
          data: { by: 1 },
        }),
      );
      await Promise.all([
        ...ok,
        postEvent(host.url, {
          id: `ok-${round}-0`,
          type: "com.example.counter.increment",
          subject: "c0",
          data: { by: 1 },
        }),
        postEvent(host.url, {
          id: `bad-${round}`,
          type: "com.example.counter.increment",
          subject: "c9",
          data: { by: "x" },
        }),
        postEvent(host.url, {
          id: `rej-${round}`,
          type: "com.example.counter.increment",
          subject: "big",
          data: { by: Number.MAX_SAFE_INTEGER },
        }),
        fetch(`${host.url}/cart/cart-1`),
      ]);
      sent += 9;
      await new Promise((r) => setTimeout(r, 100));
    }
    await prom.waitForScrapes(4);
  }, 90_000);

  afterAll(async () => {
    await prom?.stop();
    await host?.close();
    await telemetry?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("sees the load it was given", async () => {
    const [total] = await prom.query('sum(knstate_commands_total{service="counter-svc"})');
    expect(Number(total?.value[1])).toBeGreaterThan(0);
    expect(Number(total?.value[1])).toBeLessThanOrEqual(sent);
    const [rejected] = await prom.query('sum(knstate_commands_total{outcome="rejected"})');
    expect(Number(rejected?.value[1])).toBeGreaterThan(0);
  });

  it("answers every dashboard query with data", async () => {
    const empty: string[] = [];
    let count = 0;
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        count++;
        const result = await prom.query(substitute(target.expr));
        if (result.length === 0) empty.push(`${panel.title} ${target.refId}: ${target.expr}`);
      }
    }
    expect(count).toBeGreaterThanOrEqual(20);
    expect(empty).toEqual([]);
  });

  it("resolves the dashboard's template variables", async () => {
    for (const variable of dashboard.templating.list) {
      if (typeof variable.query !== "object") continue;
      const { expr, label } = labelValuesQuery(variable.query.query);
      const values = (await prom.query(expr)).map((s) => s.metric[label]);
      expect(values, variable.name).toContain(variable.name === "service" ? "counter-svc" : "counter");
    }
  });

  it("answers every recording rule and the measured side of every alert with data", async () => {
    const empty: string[] = [];
    for (const rule of rules.groups.flatMap((g) => g.rules)) {
      const expr = rule.alert === undefined ? rule.expr : measuredSide(rule.expr);
      if ((await prom.query(expr)).length === 0) empty.push(`${rule.record ?? rule.alert}: ${expr}`);
    }
    expect(empty).toEqual([]);
    // The recording rules ran, and the alerts that need them found them.
    const deadline = Date.now() + 10_000;
    for (const name of rules.groups.flatMap((g) => g.rules.map((r) => r.record)).filter(Boolean)) {
      while ((await prom.query(name!)).length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 250));
      expect((await prom.query(name!)).length, name).toBeGreaterThan(0);
    }
  });

  it("fires the store-down alert expression when readiness loses the store", async () => {
    const alert = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === "KnstateStoreDown")!;
    expect(await prom.query(alert.expr)).toEqual([]);
    telemetry.observer.storeAvailability?.(false);
    const deadline = Date.now() + 10_000;
    let firing = await prom.query(alert.expr);
    while (firing.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      firing = await prom.query(alert.expr);
    }
    expect(firing.map((s) => s.metric.pod)).toEqual(["counter-svc-00001-abc"]);
    telemetry.observer.storeAvailability?.(true);
  });

  it("fires the after-commit alert expression when a trim fails", async () => {
    const alert = rules.groups
      .flatMap((g) => g.rules)
      .find((r) => r.alert === "KnstateAfterCommitWorkFailing")!;
    expect(await prom.query(alert.expr)).toEqual([]);
    afterCommit.run("trim", () => Promise.reject(new Error("WRONGTYPE")));
    await afterCommit.idle();
    const deadline = Date.now() + 10_000;
    let firing = await prom.query(alert.expr);
    while (firing.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      firing = await prom.query(alert.expr);
    }
    expect(firing.map((s) => [s.metric.service, s.metric.work])).toEqual([["counter-svc", "trim"]]);
  });

  it("passes promtool on the rule files and the scrape configuration", () => {
    expect(
      execFileSync("promtool", ["check", "rules", RULES, join(dir, "rules.yaml")], { encoding: "utf8" }),
    ).toContain("SUCCESS");
    // Debian's Prometheus is built without Kubernetes discovery: check the relabeling and the
    // rest of the file with the discovery swapped for a static target.
    const config = parse(readFileSync(SCRAPE_CONFIG, "utf8")) as {
      rule_files: string[];
      scrape_configs: Array<Record<string, unknown>>;
    };
    for (const job of config.scrape_configs) {
      expect(job.kubernetes_sd_configs).toBeDefined();
      delete job.kubernetes_sd_configs;
      job.static_configs = [{ targets: ["127.0.0.1:9464"] }];
    }
    config.rule_files = [RULES];
    writeFileSync(join(dir, "prometheus.yml"), stringify(config));
    expect(
      execFileSync("promtool", ["check", "config", join(dir, "prometheus.yml")], { encoding: "utf8" }),
    ).toContain("SUCCESS");
  });
});

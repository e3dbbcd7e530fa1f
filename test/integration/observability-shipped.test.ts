import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { ROOT } from "../support/host.js";
import { dashboard, OPERATOR_RULES, rules, type RuleGroups } from "./observability-shipped.js";

/** The shipped dashboard, rules, collector and Knative settings, checked without running them. */

describe("shipped dashboards and rules, static checks", () => {
  it("has an importable dashboard: unique ids, a datasource variable, service and entity type templates", () => {
    expect(dashboard.uid).toBe("knstate-functions");
    const names = dashboard.templating.list.map((v) => v.name);
    expect(names).toEqual(expect.arrayContaining(["datasource", "service", "entity_type"]));
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const queries = dashboard.panels.filter((p) => p.type !== "row");
    expect(queries.length).toBeGreaterThanOrEqual(12);
    for (const panel of queries) {
      expect(panel.datasource?.uid, panel.title).toBe("${datasource}");
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? [])
        expect(target.expr, panel.title).toContain('service=~"$service"');
    }
  });

  it("keeps the Prometheus Operator rules identical to the plain rule file", () => {
    const operator = parse(readFileSync(OPERATOR_RULES, "utf8")) as { kind: string; spec: RuleGroups };
    expect(operator.kind).toBe("PrometheusRule");
    expect(operator.spec).toEqual(rules);
    expect(rules.groups.flatMap((g) => g.rules.map((r) => r.alert)).filter(Boolean)).toEqual([
      "KnstateCommandErrorRatioHigh",
      "KnstateConflictRetriesExhausted",
      "KnstateStoreDown",
      "KnstateCommandLatencyP99High",
      "KnstateOutboxLagHigh",
      "KnstateAfterCommitWorkFailing",
    ]);
  });
});

describe("shipped collector and Knative settings", () => {
  it("wires every component the collector pipelines name", () => {
    const collector = parse(readFileSync(join(ROOT, "observability/otel-collector/config.yaml"), "utf8")) as {
      receivers: Record<string, unknown>;
      processors: Record<string, unknown>;
      exporters: Record<string, unknown>;
      service: {
        pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }>;
      };
    };
    const traces = collector.service.pipelines.traces!;
    expect(traces.receivers).toEqual(["otlp"]);
    for (const name of traces.receivers) expect(collector.receivers).toHaveProperty([name]);
    for (const name of traces.processors) expect(collector.processors).toHaveProperty([name]);
    for (const name of traces.exporters) expect(collector.exporters).toHaveProperty([name]);
  });

  it("sends Knative's spans to the collector's OTLP/HTTP receiver", () => {
    const docs = parseAllDocuments(
      readFileSync(join(ROOT, "observability/knative/config-observability.yaml"), "utf8"),
    );
    const maps = docs.map(
      (d) => d.toJS() as { metadata: { name: string; namespace: string }; data: Record<string, string> },
    );
    expect(maps.map((m) => m.metadata.namespace).sort()).toEqual(["knative-eventing", "knative-serving"]);
    for (const map of maps) {
      expect(map.metadata.name).toBe("config-observability");
      expect(["grpc", "http/protobuf"]).toContain(map.data["tracing-protocol"]);
      expect(map.data["tracing-endpoint"]).toMatch(
        /^http:\/\/otel-collector\.observability:4318\/v1\/traces$/,
      );
      const rate = Number(map.data["tracing-sampling-rate"]);
      expect(rate).toBeGreaterThan(0);
      expect(rate).toBeLessThanOrEqual(1);
    }
  });
});

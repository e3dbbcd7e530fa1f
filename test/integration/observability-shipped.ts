import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "../support/host.js";

/**
 * The shipped Grafana dashboard and Prometheus rules, loaded for the observability tests, and
 * their queries as a Prometheus server would run them.
 */

export const DASHBOARD = join(ROOT, "observability/grafana/knstate-dashboard.json");
export const RULES = join(ROOT, "observability/prometheus/knstate-rules.yaml");
export const OPERATOR_RULES = join(ROOT, "observability/prometheus/prometheus-rule.yaml");
export const SCRAPE_CONFIG = join(ROOT, "observability/prometheus/prometheus.yml");

export interface Panel {
  readonly type: string;
  readonly title: string;
  readonly id: number;
  readonly datasource?: { uid: string };
  readonly gridPos: { x: number; y: number; w: number; h: number };
  readonly targets?: ReadonlyArray<{ expr: string; refId: string }>;
}
export interface Rule {
  readonly record?: string;
  readonly alert?: string;
  readonly expr: string;
}
export interface RuleGroups {
  readonly groups: ReadonlyArray<{ name: string; interval?: string; rules: Rule[] }>;
}

export const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; query?: { query: string } | string }> };
};
export const rules = parse(readFileSync(RULES, "utf8")) as RuleGroups;

/** Grafana's variables and macros, as a dashboard user with "All" entity types would run them. */
export function substitute(expr: string): string {
  return expr
    .replaceAll("$__rate_interval", "15s")
    .replaceAll("$__range", "1h")
    .replaceAll("$service", "counter-svc")
    .replaceAll("$entity_type", ".*");
}

/** `label_values(selector, label)` (a Grafana function) as PromQL. */
export function labelValuesQuery(query: string): { expr: string; label: string } {
  const match = /^label_values\((.*),\s*(\w+)\)$/.exec(query);
  if (match === null) throw new Error(`not a label_values() query: ${query}`);
  return { expr: `count by (${match[2]}) (${substitute(match[1]!)})`, label: match[2]! };
}

/** An alert's measured side: `lhs > 0.05` → `lhs` (the comparison is empty while healthy). */
export function measuredSide(expr: string): string {
  const match = /^([\s\S]*?)\s*(?:>|<|==|!=|>=|<=)\s*[\d.]+\s*$/.exec(expr.trim());
  if (match === null) throw new Error(`an alert should compare a measure with a threshold: ${expr}`);
  return match[1]!;
}

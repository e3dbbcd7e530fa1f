import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { TracingOptions } from "../tracing.js";
import { parseKeyValues } from "./config.js";
import type { Attributes, ExportScope } from "./span.js";

type Env = Readonly<Record<string, string | undefined>>;

let version: string | undefined;

/** knstate's own version, from its package.json. */
function knstateVersion(): string {
  if (version !== undefined) return version;
  for (const path of ["../../../package.json", "../../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "knstate" && typeof pkg.version === "string") return (version = pkg.version);
    } catch {
      // Not there: the other layout (sources or compiled).
    }
  }
  return (version = "unknown");
}

/**
 * The resource spans are exported with, built the way the OpenTelemetry SDK's detectors do it:
 * `service.*` (`OTEL_SERVICE_NAME`, else the function's service; the Knative revision as
 * `service.version`), `host.name`, `process.*`, `telemetry.sdk.*`, then `OTEL_RESOURCE_ATTRIBUTES`.
 * `OTEL_NODE_RESOURCE_DETECTORS` picks among `env`, `host`, `process` and `serviceinstance`
 * (default `all`; `none` keeps only the service and SDK attributes).
 */
export function traceResource(env: Env, options: TracingOptions): ExportScope {
  const detectors = new Set(
    (env.OTEL_NODE_RESOURCE_DETECTORS ?? "all")
      .split(",")
      .map((d) => d.trim())
      .filter(Boolean),
  );
  const on = (name: string) => detectors.has("all") || detectors.has(name);
  const resource: Attributes = {
    "service.name": env.OTEL_SERVICE_NAME?.trim() || options.service,
    "telemetry.sdk.name": "knstate",
    "telemetry.sdk.language": "nodejs",
    "telemetry.sdk.version": knstateVersion(),
  };
  if (options.revision !== undefined) resource["service.version"] = options.revision;
  if (on("serviceinstance")) resource["service.instance.id"] = randomUUID();
  if (on("host")) {
    resource["host.name"] = hostname();
    resource["host.arch"] = process.arch;
  }
  if (on("process")) {
    resource["process.pid"] = process.pid;
    resource["process.runtime.name"] = "nodejs";
    resource["process.runtime.version"] = process.versions.node;
  }
  if (on("env")) {
    for (const [key, value] of Object.entries(parseKeyValues(env.OTEL_RESOURCE_ATTRIBUTES))) {
      // OTEL_SERVICE_NAME wins over a service.name given here, as in the SDK.
      if (key === "service.name" && env.OTEL_SERVICE_NAME?.trim()) continue;
      resource[key] = value;
    }
  }
  return { resource, scopeName: "knstate", scopeVersion: knstateVersion() };
}

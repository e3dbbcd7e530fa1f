import { settings, type Setting } from "../../config/defaults.js";
import type { HostConfig } from "./host-config.js";

/** Ports Knative's queue-proxy and activator use in the pod; the host must never bind them. */
export const KNATIVE_RESERVED_PORTS: readonly number[] = [8008, 8012, 8013, 8022, 9090, 9091];

/** Every problem with the configuration, in one error, so a user fixes them all at once. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/**
 * Builds the host configuration from the environment and command-line flags (flags win).
 * Pure: it reads nothing but its arguments.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  flags: Readonly<Record<string, string | undefined>> = {},
): HostConfig {
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const setting of settings) {
    const fromFlag = setting.flag === undefined ? undefined : flags[setting.flag];
    const raw = fromFlag ?? nonEmpty(env[setting.env]) ?? setting.default;
    const source = fromFlag !== undefined ? `--${setting.flag}` : env[setting.env] ? setting.env : "default";
    if (raw === undefined) {
      config[setting.key] = undefined;
      continue;
    }
    try {
      config[setting.key] = parseValue(setting, raw);
    } catch (error) {
      problems.push(`${source}=${JSON.stringify(raw)}: ${(error as Error).message}`);
    }
  }
  for (const key of ["port", "metricsPort"] as const) {
    const port = config[key] as number | undefined;
    if (port !== undefined && KNATIVE_RESERVED_PORTS.includes(port)) {
      problems.push(`${key} ${port} is reserved by Knative (${KNATIVE_RESERVED_PORTS.join(", ")})`);
    }
  }
  const port = config.port as number | undefined;
  if (port !== undefined && port !== 0 && port === config.metricsPort) {
    problems.push(`port and metrics port must differ (both ${port})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config) as unknown as HostConfig;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const UNITS_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

function parseValue(setting: Setting, raw: string): unknown {
  switch (setting.kind) {
    case "string":
      return raw;
    case "port": {
      const n = integer(raw);
      if (n < 0 || n > 65535) throw new Error("must be a port number (0-65535)");
      return n;
    }
    case "integer": {
      const n = integer(raw);
      if (n < 0) throw new Error("must not be negative");
      return n;
    }
    case "duration":
      return withUnit(raw, UNITS_MS, "a duration such as 500ms, 30s, 5m or 24h");
    case "size":
      return withUnit(raw, UNITS_BYTES, "a size such as 512kb or 1mb");
    case "boolean": {
      const v = raw.toLowerCase();
      if (["true", "on", "1", "yes"].includes(v)) return true;
      if (["false", "off", "0", "no"].includes(v)) return false;
      throw new Error("must be true or false");
    }
    case "enum":
      if (!setting.values!.includes(raw)) throw new Error(`must be one of ${setting.values!.join(", ")}`);
      return raw;
    case "list":
      return raw
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
  }
}

function integer(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new Error("must be a whole number");
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error("is too large");
  return n;
}

function withUnit(raw: string, units: Record<string, number>, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw);
  const unit = m?.[2]?.toLowerCase() || Object.keys(units)[0]!;
  const factor = units[unit];
  if (!m || factor === undefined) throw new Error(`must be ${what}`);
  return Math.round(Number(m[1]) * factor);
}

import { parseValue } from "./parse-value.js";
import type { SettingSpec } from "./setting.js";
import { settingsTable, type HostConfig, type SettingKey } from "./settings.js";

export type { HostConfig } from "./settings.js";

/** Ports Knative's queue-proxy and activator use in the pod; the host must never bind them. */
export const KNATIVE_RESERVED_PORTS: readonly number[] = [8008, 8012, 8013, 8022, 9090, 9091];

type Env = Readonly<Record<string, string | undefined>>;

/** The configuration while it is read: a value, or `undefined` when the row is unset or bad. */
type Draft = Partial<Record<SettingKey, unknown>>;

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
 * Builds the host configuration from the environment and command-line flags (flags win), one
 * value per row of the settings table. Pure: it reads nothing but its arguments. Throws one
 * `ConfigError` listing every bad value.
 */
export function loadConfig(env: Env, flags: Readonly<Record<string, string | undefined>> = {}): HostConfig {
  const problems: string[] = [];
  const config: Draft = {};
  for (const key of Object.keys(settingsTable) as SettingKey[]) {
    config[key] = readSetting(settingsTable[key], env, flags, problems);
  }
  for (const key of ["port", "metricsPort", "adminPort"] as const) {
    const port = config[key] as number | undefined;
    if (port !== undefined && KNATIVE_RESERVED_PORTS.includes(port)) {
      problems.push(`${key} ${port} is reserved by Knative (${KNATIVE_RESERVED_PORTS.join(", ")})`);
    }
  }
  const port = config.port as number | undefined;
  if (port !== undefined && port !== 0 && port === config.metricsPort) {
    problems.push(`port and metrics port must differ (both ${port})`);
  }
  const adminPort = config.adminPort as number | undefined;
  if (
    adminPort !== undefined &&
    adminPort !== 0 &&
    (adminPort === port || adminPort === config.metricsPort)
  ) {
    problems.push(`the admin port must differ from the port and the metrics port (${adminPort})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(complete(config));
}

/** The value of one row: flag, else environment, else default; a bad one is added to `problems`. */
function readSetting(
  spec: SettingSpec,
  env: Env,
  flags: Readonly<Record<string, string | undefined>>,
  problems: string[],
): unknown {
  if (spec.kind === "prefix") return withPrefix(env, spec.env.replace(/\*$/, ""));
  const fromFlag = spec.flag === undefined ? undefined : flags[spec.flag];
  const fromEnv = nonEmpty(env[spec.env]);
  const raw = fromFlag ?? fromEnv ?? spec.default;
  if (raw === undefined) return undefined;
  try {
    return parseValue(spec, raw);
  } catch (error) {
    const source =
      fromFlag !== undefined ? `--${spec.flag}` : fromEnv !== undefined ? spec.env : `${spec.env} (default)`;
    problems.push(`${source} ${(error as Error).message}, not ${JSON.stringify(raw)}`);
    return undefined;
  }
}

/**
 * The draft once every row was read without a problem: every key is present, each value parsed
 * by its row's kind (`parseValue`), and `undefined` only where the row has no default, which the
 * row's `SettingValue` type allows: the draft has the derived type.
 */
function complete(config: Draft): HostConfig {
  return config as HostConfig;
}

function withPrefix(env: Env, prefix: string): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (name.startsWith(prefix) && value !== undefined) out[name] = value;
  }
  return Object.freeze(out);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

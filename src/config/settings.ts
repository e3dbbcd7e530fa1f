import { authSettings } from "./settings-auth.js";
import { pipelineSettings } from "./settings-pipeline.js";
import { publishSettings } from "./settings-publish.js";
import { serverSettings } from "./settings-server.js";
import { storeSettings } from "./settings-store.js";
import { telemetrySettings } from "./settings-telemetry.js";
import { timerSettings } from "./settings-timers.js";
import type { SettingSpec, SettingValues } from "./setting.js";

/**
 * Every setting of the host, by its `HostConfig` key: every environment variable it reads, with
 * its flag, kind, default and doc. Precedence: flag > environment variable > default. The
 * README's configuration table lists the same rows (a unit test checks it).
 */
export const settingsTable = {
  ...serverSettings,
  ...storeSettings,
  ...pipelineSettings,
  ...telemetrySettings,
  ...publishSettings,
  ...authSettings,
  ...timerSettings,
} as const satisfies Record<string, SettingSpec>;

export type SettingKey = keyof typeof settingsTable;

/** One row of the table, with its key. */
export type Setting = SettingSpec & { readonly key: SettingKey };

/** The rows in table order. */
export const settings: readonly Setting[] = Object.entries(settingsTable).map(([key, spec]) =>
  Object.freeze({ key: key as SettingKey, ...spec }),
);

/** The host's settings with every default filled in and every unit resolved (milliseconds, bytes). */
export type HostConfig = SettingValues<typeof settingsTable>;

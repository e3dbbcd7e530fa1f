import { loadConfig } from "./load-config.js";
import type { HostConfig } from "./settings.js";

/**
 * Every setting at its default, as the table writes it: for the modules that take an option and
 * fall back on the table's default when a caller (a test, the testkit) leaves it out.
 */
export const DEFAULTS: HostConfig = loadConfig({});

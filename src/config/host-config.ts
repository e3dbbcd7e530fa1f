/** The host's settings, typed from the settings table (`settings.ts`). */
export type { HostConfig } from "./settings.js";

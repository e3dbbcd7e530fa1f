import type { AuthSettings } from "./settings.js";

/** The one method of a logger this needs (the host's `Logger` fits). */
export interface WarnLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Warns once at startup when a production host serves a public surface without
 * authentication: anyone who can reach the route can then read and change every entity.
 * Returns the surfaces it warned about. Call it after the settings are loaded, with the
 * surfaces the host actually serves.
 */
export function warnIfUnprotected(
  settings: AuthSettings,
  serves: { readonly api: boolean; readonly events: boolean },
  logger: WarnLogger,
): Array<"api" | "events"> {
  if (!settings.production) return [];
  const open: Array<"api" | "events"> = [];
  if (serves.api && settings.api.mode === "off") {
    open.push("api");
    logger.warn(
      "the HTTP API is served without authentication: anyone who can reach it can run every command; set KNSTATE_API_AUTH=jwt or api-key",
      { setting: "KNSTATE_API_AUTH" },
    );
  }
  if (serves.events && settings.events.mode === "off") {
    open.push("events");
    logger.warn(
      "the CloudEvents ingress accepts any sender: enable Knative Eventing's authentication-oidc feature and set KNSTATE_EVENTS_AUTH=oidc",
      { setting: "KNSTATE_EVENTS_AUTH" },
    );
  }
  return open;
}

import type { Component } from "../entity/define.js";

/** Every minute: the lateness bound of a timer while the Service is scaled to zero (plus a cold start). */
export const DEFAULT_PING_SCHEDULE = "* * * * *";

export interface KnativePingSource {
  apiVersion: "sources.knative.dev/v1";
  kind: "PingSource";
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  spec: {
    schedule: string;
    contentType: "application/json";
    data: string;
    sink: { ref: { apiVersion: "serving.knative.dev/v1"; kind: "Service"; name: string } };
  };
}

/** The name of a function's PingSource: `<service>-timers`. */
export function pingSourceName(service: string): string {
  return `${service}-timers`;
}

/**
 * The PingSource (`sources.knative.dev/v1`) that wakes a function's Service on `schedule` (a
 * cron expression, UTC), so timers fire while it is scaled to zero: the host answers the ping
 * with 202 after firing what is due.
 */
export function buildPingSource(
  service: string,
  options: { readonly schedule?: string | undefined; readonly namespace?: string | undefined } = {},
): KnativePingSource {
  return {
    apiVersion: "sources.knative.dev/v1",
    kind: "PingSource",
    metadata: {
      name: pingSourceName(service),
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      labels: { "app.kubernetes.io/managed-by": "knstate", "knstate.dev/function": service },
    },
    spec: {
      schedule: options.schedule ?? DEFAULT_PING_SCHEDULE,
      contentType: "application/json",
      data: '{"wake":"timers"}',
      sink: { ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name: service } },
    },
  };
}

/**
 * Whether a function uses timers: some command handler of an entity calls `schedule(` or reads
 * its context's `timer`. Read from the handlers' source, so a bundler that renames them hides
 * it: then pass `--ping-schedule` to generate the PingSource anyway.
 */
const TIMER_USE = /\bschedule\s*\)?\s*\(|\.timer\b/;

export function usesTimers(components: readonly Component[]): boolean {
  for (const component of components) {
    if (component.kind === "action") continue;
    const commands = (component as unknown as { commands?: Record<string, unknown> }).commands ?? {};
    for (const command of Object.values(commands)) {
      const handler = typeof command === "function" ? command : (command as { handle?: unknown }).handle;
      if (typeof handler === "function" && TIMER_USE.test(String(handler))) return true;
    }
  }
  return false;
}

import type { Component } from "../entity/define.js";
import { PUBLISHED_STATE } from "../entity/publish.js";

/**
 * The CloudEvent types one function (one Knative Service) takes and sends: what its Trigger
 * must route to it, and what it must keep out so the function never receives its own output.
 */
export interface FunctionRouting {
  /** The Service name: `K_SERVICE`, the first segment of the `source` of everything it sends. */
  readonly service: string;
  /** `<typePrefix>.<name>.<command>` for every command of every component. */
  readonly commandTypes: readonly string[];
  /** `<command type>.reply`: the 200 reply events, which the Broker routes on. */
  readonly replyTypes: readonly string[];
  /** `<typePrefix>.<name>.<event>`: the committed events published to `K_SINK`. */
  readonly publishedTypes: readonly string[];
  /** CloudEvent types entities subscribe to (another function's events, a PingSource's): also routed here. */
  readonly subscribedTypes?: readonly string[];
  /** `/<service>/`: the `source` prefix of every reply and published event (the loop guard). */
  readonly ownSourcePrefix: string;
}

export function routingOf(service: string, components: readonly Component[]): FunctionRouting {
  const commandTypes: string[] = [];
  const publishedTypes: string[] = [];
  const subscribedTypes: string[] = [];
  for (const c of components) {
    const base = `${c.typePrefix}.${c.name}.`;
    const commands = c.kind === "action" ? c.handlers : c.commands;
    for (const command of Object.keys(commands)) commandTypes.push(base + command);
    if (c.kind === "event-sourced") {
      for (const event of Object.keys(c.events)) publishedTypes.push(base + event);
    } else if (c.kind === "value") {
      publishedTypes.push(base + PUBLISHED_STATE);
    } else if (c.kind === "replicated") {
      publishedTypes.push(...namedEvents(c.publish).map((event) => base + event));
    }
    if (c.kind !== "action" && c.kind !== "replicated")
      subscribedTypes.push(...Object.keys(c.subscribe ?? {}));
  }
  return {
    service,
    commandTypes,
    replyTypes: commandTypes.map((t) => `${t}.reply`),
    publishedTypes,
    ...(subscribedTypes.length > 0 ? { subscribedTypes } : {}),
    ownSourcePrefix: `/${service}/`,
  };
}

/** The event names a replicated entity's `publish` mapping gives by name (a function's are known only when it runs). */
function namedEvents(rule: unknown): string[] {
  if (typeof rule !== "object" || rule === null) return [];
  return Object.values(rule).filter((target): target is string => typeof target === "string");
}

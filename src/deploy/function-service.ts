import { basename, resolve } from "node:path";
import type { Component } from "../entity/define.js";
import { loadFunctions } from "../host/load-functions.js";
import { routingOf, type FunctionRouting } from "./routing.js";
import { buildService, IMAGE_FUNCTIONS_DIR, type KnativeService, type ServiceOptions } from "./service.js";
import { buildTrigger, serviceAudience, type KnativeTrigger, type TriggerOptions } from "./trigger.js";
import { buildPingSource, usesTimers, type KnativePingSource } from "./ping-source.js";
import { publishes } from "../outbox/served-components.js";
import {
  buildRelayDeployment,
  buildRelaySinkBinding,
  type KubeDeployment,
  type RelaySinkBinding,
} from "./relay-deployment.js";

export type FunctionServiceOptions = Omit<ServiceOptions, "name" | "functionPath" | "stateful"> & {
  /** Service name; the function's entity or action name when absent. */
  readonly name?: string | undefined;
  /** The folder inside the image; `/app/dist/functions/<folder name>` when absent. */
  readonly functionPath?: string | undefined;
};

export type FunctionManifestOptions = FunctionServiceOptions &
  Omit<TriggerOptions, "namespace"> & {
    /** Leave the Trigger out (the function is called over HTTP only, or routed by hand). */
    readonly noTrigger?: boolean | undefined;
    /**
     * The PingSource's cron schedule that wakes the Service for its timers; `none` leaves it out.
     * By default a function that schedules timers gets one, every minute.
     */
    readonly pingSchedule?: string | undefined;
    /**
     * `oidc`: the Service verifies Knative Eventing's sender identity (KNSTATE_EVENTS_AUTH=oidc)
     * for the audience the Trigger sets as its subscriber's (`oidcAudience`, by default
     * `serviceAudience(namespace or "default", name)`).
     */
    readonly eventsAuth?: "off" | "oidc" | undefined;
    readonly oidcAudience?: string | undefined;
    /**
     * `separate`: the outbox is relayed by a Deployment of its own (`<name>-relay`, with a
     * SinkBinding to the Broker), and the Service runs with KNSTATE_OUTBOX_RELAY=false; `pod`
     * (the default): every pod of the Service relays.
     */
    readonly relay?: "pod" | "separate" | undefined;
    /** Replicas of the relay Deployment (`relay: "separate"`); 2 by default. */
    readonly relayReplicas?: number | undefined;
  };

/** What `knstate manifest` prints for one function folder, and the routing its Trigger encodes. */
export interface FunctionManifests {
  readonly service: KnativeService;
  readonly trigger: KnativeTrigger | undefined;
  readonly routing: FunctionRouting;
  /** Wakes the Service for its timers (functions that schedule timers). */
  readonly pingSource?: KnativePingSource | undefined;
  /** The outbox relay apart from the Service (`relay: "separate"`), and its binding to the Broker. */
  readonly relay?:
    { readonly deployment: KubeDeployment; readonly sinkBinding: RelaySinkBinding } | undefined;
}

async function load(
  dir: string,
  name: string | undefined,
): Promise<{ components: Component[]; name: string }> {
  const components = await loadFunctions([dir]);
  if (name === undefined && components.length > 1) {
    throw new Error(
      `${dir} exports ${components.length} components (${components.map((c) => c.name).join(", ")}): choose the Service name with --name`,
    );
  }
  return { components, name: name ?? components[0]!.name };
}

function serviceOf(
  dir: string,
  components: readonly Component[],
  name: string,
  options: FunctionServiceOptions,
) {
  return buildService({
    ...options,
    name,
    functionPath: options.functionPath ?? `${IMAGE_FUNCTIONS_DIR}/${basename(resolve(dir))}`,
    stateful: components.some((c) => c.kind !== "action"),
  });
}

/**
 * Loads a function folder to learn its name and whether it keeps state, then builds its
 * Knative Service.
 */
export async function serviceForFunction(
  dir: string,
  options: FunctionServiceOptions,
): Promise<KnativeService> {
  const { components, name } = await load(dir, options.name);
  return serviceOf(dir, components, name, options);
}

/** The Service and the Trigger that routes the function's command types to it. */
export async function manifestsForFunction(
  dir: string,
  options: FunctionManifestOptions,
): Promise<FunctionManifests> {
  const { components, name } = await load(dir, options.name);
  const audience =
    options.eventsAuth === "oidc"
      ? (options.oidcAudience ?? serviceAudience(options.namespace ?? "default", name))
      : undefined;
  const relay = relayOf(dir, components, name, options);
  const service = serviceOf(dir, components, name, {
    ...options,
    env: {
      ...(audience === undefined ? {} : { KNSTATE_EVENTS_AUTH: "oidc", KNSTATE_OIDC_AUDIENCE: audience }),
      ...(relay === undefined ? {} : { KNSTATE_OUTBOX_RELAY: "false" }),
      ...options.env,
    },
  });
  const routing = routingOf(name, components);
  const trigger = options.noTrigger ? undefined : buildTrigger(routing, { ...options, audience });
  const ping = options.pingSchedule;
  if (ping === "none" || (ping === undefined && !usesTimers(components)))
    return { service, trigger, routing, relay };
  const pingSource = buildPingSource(name, { schedule: ping, namespace: options.namespace });
  return { service, trigger, routing, pingSource, relay };
}

function relayOf(
  dir: string,
  components: readonly Component[],
  name: string,
  options: FunctionManifestOptions,
): FunctionManifests["relay"] {
  if (options.relay !== "separate") {
    if (options.relayReplicas !== undefined) throw new Error("--relay-replicas needs --relay separate");
    return undefined;
  }
  if (!publishes(components)) {
    throw new Error(`no entity of ${dir} publishes (declare \`publish\`): there is no outbox to relay`);
  }
  const o = {
    service: name,
    namespace: options.namespace,
    image: options.image,
    functionPath: options.functionPath ?? `${IMAGE_FUNCTIONS_DIR}/${basename(resolve(dir))}`,
    redisSecret: options.redisSecret,
    env: options.env,
    replicas: options.relayReplicas,
    broker: options.broker,
  };
  return { deployment: buildRelayDeployment(o), sinkBinding: buildRelaySinkBinding(o) };
}

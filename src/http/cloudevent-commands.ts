import type { IncomingHttpHeaders } from "node:http";
import type { IncomingEvent } from "../cloudevents/event.js";
import type { OutgoingEvent } from "../cloudevents/reply.js";
import { HostError, toHostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import type { PipelineObserver, TraceHandle } from "../observability/pipeline-observer.js";
import type { ActionRoute, CommandRoute, Registry } from "../pipeline/registry.js";
import type { Caller } from "../entity/access.js";
import { subscribedEntityId, type Subscription } from "../entity/subscriptions.js";
import { eventDedupId, validateData } from "./command-input.js";
import type { EdgeAuth, Verified } from "./edge-auth.js";

/** The extension attribute that carries the entity's version after a command. */
export const ENTITY_VERSION = "entityversion";

export interface CloudEventCommandsOptions {
  readonly registry: Registry;
  readonly dispatcher: Pipeline;
  readonly service: string;
  readonly newId: () => string;
  readonly observer?: PipelineObserver | undefined;
  /** The host's policy and the entities' rules, applied to each event (the sender is verified before). */
  readonly auth?: EdgeAuth | undefined;
  /** The Knative PingSource wake-up (`dev.knative.sources.ping`): fires due timers; 202 when done. */
  readonly onPing?: (() => Promise<unknown>) | undefined;
}

/** The CloudEvent type of a Knative PingSource. */
export const PING_TYPE = "dev.knative.sources.ping";

/**
 * The CloudEvent → command adapter: turns one validated CloudEvent into a command (or an
 * action call) and its reply event (`undefined` when there is nothing to reply: the ingress
 * answers 202).
 */
export class CloudEventCommands {
  readonly #options: CloudEventCommandsOptions;

  constructor(options: CloudEventCommandsOptions) {
    this.#options = options;
  }

  /**
   * Throws `HostError` for everything the caller should see as a problem. `transport`: the
   * HTTP headers the event came with (for tracing).
   */
  handle(
    event: IncomingEvent,
    transport?: IncomingHttpHeaders,
    verified?: Verified,
  ): Promise<OutgoingEvent | undefined> {
    const observer = this.#options.observer;
    if (observer?.traceEvent)
      return observer.traceEvent(event, transport, (trace) => this.#handle(event, trace, verified));
    return this.#handle(event, undefined, verified);
  }

  #handle(
    event: IncomingEvent,
    trace: TraceHandle | undefined,
    verified: Verified | undefined,
  ): Promise<OutgoingEvent | undefined> {
    const { onPing } = this.#options;
    const route = this.#options.registry.route(event.type);
    if (event.type === PING_TYPE && onPing !== undefined) {
      // The wake-up fires due timers; an entity that subscribes to the Ping also gets its command.
      const fired = onPing();
      if (route === undefined) return fired.then(() => undefined);
      return fired.then(() => this.#routed(route, event, trace, verified));
    }
    if (route === undefined) {
      this.#options.observer?.invalidCommand?.(undefined, undefined);
      const type = event.type.length > 200 ? `${event.type.slice(0, 200)}…` : event.type;
      return Promise.reject(
        new HostError(Problem.unknownType, `this function serves no CloudEvent type "${type}"`),
      );
    }
    return this.#routed(route, event, trace, verified);
  }

  #routed(
    route: CommandRoute | ActionRoute,
    event: IncomingEvent,
    trace: TraceHandle | undefined,
    verified: Verified | undefined,
  ): Promise<OutgoingEvent | undefined> {
    const auth = this.#options.auth;
    if (auth !== undefined && verified !== undefined) {
      try {
        if (route.kind === "command") {
          auth.permit(verified, { kind: "command", entity: route.model.name, command: route.command });
          if (event.subject !== undefined)
            auth.entityRule(route.model, verified, {
              kind: "command",
              command: route.command,
              entityId: event.subject,
            });
        } else auth.permit(verified, { kind: "command", entity: route.name, command: route.handler });
      } catch (error) {
        return Promise.reject(toHostError(error));
      }
    }
    return route.kind === "command"
      ? this.#command(route, event, trace, verified?.caller)
      : this.#action(route, event);
  }

  async #command(
    route: CommandRoute,
    event: IncomingEvent,
    trace: TraceHandle | undefined,
    caller: Caller | undefined,
  ): Promise<OutgoingEvent | undefined> {
    if (route.subscription !== undefined) return this.#subscribed(route, route.subscription, event, trace);
    let data: unknown;
    try {
      data = this.#commandData(route, event);
    } catch (error) {
      this.#options.observer?.invalidCommand?.(route.model.name, route.command, trace);
      throw error;
    }
    // Dispatch synchronously after validation: the order of events in a batch is the order of the queue.
    const result = await this.#options.dispatcher.dispatch({
      model: route.model,
      entityId: event.subject!,
      command: route.command,
      data,
      dedupId: eventDedupId(event),
      event: eventContext(event),
      trace,
      caller,
    });
    if (result.reply === undefined) return undefined;
    return {
      id: result.replyId,
      source: `/${this.#options.service}/${route.model.name}`,
      type: `${event.type}.reply`,
      subject: event.subject,
      time: isoNow(),
      extensions: { [ENTITY_VERSION]: result.version },
      data: result.reply,
    };
  }

  /**
   * A subscribed event: runs the declared command on the entity the subscription derives, once
   * per `source` + `id`; answers 202 without a reply event (the event is not a request).
   */
  async #subscribed(
    route: CommandRoute,
    subscription: Subscription,
    event: IncomingEvent,
    trace: TraceHandle | undefined,
  ): Promise<undefined> {
    const what = `${route.model.name}.${route.command}`;
    const seen = { ...event, subject: event.subject };
    let entityId: string | undefined;
    let data: unknown;
    try {
      entityId = subscribedEntityId(subscription, seen);
      if (entityId === undefined) {
        throw new HostError(
          Problem.noEntityId,
          `${event.type} runs ${what}, but the entity id its subscription derives from this event is missing`,
        );
      }
      const input = subscription.data === undefined ? event.data : subscription.data(seen);
      data = validateData((d) => route.model.validate(route.command, d), input, what);
    } catch (error) {
      this.#options.observer?.invalidCommand?.(route.model.name, route.command, trace);
      if (error instanceof HostError) throw error;
      throw new HostError(Problem.noEntityId, `${what}: ${(error as Error).message}`);
    }
    await this.#options.dispatcher.dispatch({
      model: route.model,
      entityId,
      command: route.command,
      data,
      dedupId: eventDedupId(event),
      event: eventContext(event),
      trace,
    });
    return undefined;
  }

  /** The command's validated data; throws the 4xx problem when the event cannot be a command. */
  #commandData(route: CommandRoute, event: IncomingEvent): unknown {
    if (event.subject === undefined) {
      throw new HostError(
        Problem.missingSubject,
        `${event.type} is a command: set the subject to the entity id`,
      );
    }
    if (event.dataKind === "text" || event.dataKind === "binary") {
      throw new HostError(
        Problem.unsupportedMediaType,
        `command data must be JSON (application/json), not ${event.datacontenttype ?? "unknown"}`,
      );
    }
    const what = `${route.model.name}.${route.command}`;
    return validateData((d) => route.model.validate(route.command, d), event.data, what);
  }

  async #action(route: ActionRoute, event: IncomingEvent): Promise<OutgoingEvent | undefined> {
    const data = validateData((d) => route.validate(d), event.data, `${route.name}.${route.handler}`);
    const reply = await route.run(data, { type: event.type, event: eventContext(event) });
    if (reply === undefined) return undefined;
    return {
      id: this.#options.newId(),
      source: `/${this.#options.service}/${route.name}`,
      type: `${event.type}.reply`,
      subject: event.subject,
      time: isoNow(),
      extensions: {},
      data: reply,
    };
  }
}

let isoMs = 0;
let iso = "";

/** The time now as a CloudEvents timestamp; formatted once per millisecond, not per reply. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    isoMs = ms;
    iso = new Date(ms).toISOString();
  }
  return iso;
}

function eventContext(event: IncomingEvent) {
  return event.time === undefined
    ? { id: event.id, source: event.source, type: event.type }
    : { id: event.id, source: event.source, type: event.type, time: event.time };
}

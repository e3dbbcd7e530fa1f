import type { Action, ActionContext, ActionHandler, Component } from "../entity/define.js";
import { parseInput, type InputSchema } from "../entity/input.js";
import { toModel, type EntityModel } from "../entity/model.js";
import { toReplicatedModel, type ReplicatedModel } from "../entity/replicated/model.js";
import { normalize, type Subscription, type Subscriptions } from "../entity/subscriptions.js";

/** An entity as the host runs it: event-sourced or value (`EntityModel`), or replicated. */
export type AnyEntityModel = EntityModel | ReplicatedModel;

export interface CommandRoute {
  readonly kind: "command";
  readonly type: string;
  readonly model: AnyEntityModel;
  readonly command: string;
  /** Present for a subscribed CloudEvent type: where the entity id and the command's input come from. */
  readonly subscription?: Subscription | undefined;
}

export interface ActionRoute {
  readonly kind: "action";
  readonly type: string;
  readonly name: string;
  readonly handler: string;
  validate(data: unknown): unknown;
  run(data: unknown, ctx: ActionContext): unknown;
}

export type Route = CommandRoute | ActionRoute;

/**
 * The function's routing table: CloudEvent `type` → entity command or action, and the names
 * the HTTP API uses. Built once at start; lookups are single Map reads.
 */
export class Registry {
  readonly #byType = new Map<string, Route>();
  readonly #entities = new Map<string, AnyEntityModel>();
  readonly #actions = new Map<string, Map<string, ActionRoute>>();

  constructor(components: readonly Component[]) {
    for (const component of components) {
      if (this.#entities.has(component.name) || this.#actions.has(component.name)) {
        throw new TypeError(`two components are named "${component.name}"`);
      }
      if (component.kind === "action") this.#addAction(component as Action<Record<string, LooseAction>>);
      else {
        const model =
          component.kind === "replicated" ? toReplicatedModel(component as never) : toModel(component);
        this.#entities.set(model.name, model);
        for (const command of model.commandNames) {
          this.#add({
            kind: "command",
            type: `${model.typePrefix}.${model.name}.${command}`,
            model,
            command,
          });
        }
        if (model.kind !== "replicated" && component.kind !== "replicated") {
          this.#addSubscriptions(model, component.subscribe);
        }
      }
    }
  }

  /** The route of a CloudEvent type, if the function declares one. */
  route(type: string): Route | undefined {
    return this.#byType.get(type);
  }

  entity(name: string): AnyEntityModel | undefined {
    return this.#entities.get(name);
  }

  action(name: string, handler: string): ActionRoute | undefined {
    return this.#actions.get(name)?.get(handler);
  }

  /** Every CloudEvent type served, for the start-up log and the Knative Trigger filters. */
  get types(): string[] {
    return [...this.#byType.keys()];
  }

  get entities(): AnyEntityModel[] {
    return [...this.#entities.values()];
  }

  #add(route: Route): void {
    if (this.#byType.has(route.type)) throw new TypeError(`CloudEvent type ${route.type} is routed twice`);
    this.#byType.set(route.type, route);
  }

  /** The entity's subscriptions: each subscribed type routes to one of its commands. */
  #addSubscriptions(model: EntityModel, subscriptions: Subscriptions | undefined): void {
    for (const [type, value] of Object.entries(subscriptions ?? {})) {
      const subscription = normalize(value);
      if (!model.commandNames.includes(subscription.command)) {
        throw new TypeError(`${model.name} subscribes ${type} to an unknown command ${subscription.command}`);
      }
      this.#add({ kind: "command", type, model, command: subscription.command, subscription });
    }
  }

  /** The CloudEvent types entities subscribe to (the Trigger filters besides the commands'). */
  get subscribedTypes(): string[] {
    return [...this.#byType.values()]
      .filter((r) => r.kind === "command" && r.subscription)
      .map((r) => r.type);
  }

  #addAction(action: Action<Record<string, LooseAction>>): void {
    const handlers = new Map<string, ActionRoute>();
    for (const [name, entry] of Object.entries(action.handlers)) {
      const handle = typeof entry === "function" ? entry : entry.handle;
      const input = typeof entry === "function" ? undefined : entry.input;
      const route: ActionRoute = {
        kind: "action",
        type: `${action.typePrefix}.${action.name}.${name}`,
        name: action.name,
        handler: name,
        validate: (data) => (input === undefined ? data : parseInput(input, data)),
        run: (data, ctx) => handle(data, ctx),
      };
      handlers.set(name, route);
      this.#add(route);
    }
    this.#actions.set(action.name, handlers);
  }
}

type LooseAction = ActionHandler | { readonly input: InputSchema<unknown>; readonly handle: ActionHandler };

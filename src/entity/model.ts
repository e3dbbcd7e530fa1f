import type { CommandContext, Component, EventSourcedEntity, ValueEntity } from "./define.js";
import { isEmit, isRejection, isReply, isUpdate } from "./effects.js";
import { parseInput, type InputSchema } from "./input.js";

/** One event as the host stores it. */
export interface DomainEvent {
  readonly type: string;
  readonly data: unknown;
}

/** What a command decided, with the state after its events. */
export type Decision =
  | {
      readonly kind: "accepted";
      readonly events: readonly DomainEvent[];
      readonly state: unknown;
      readonly reply: unknown;
    }
  | { readonly kind: "rejected"; readonly reason: string; readonly details: unknown };

/** The event type under which a value entity stores each whole new state. */
export const VALUE_UPDATED = "$state";

/**
 * The uniform view of an entity that the host and the testkit run: event-sourced and value
 * entities differ only in how a decision becomes events and how events fold into state.
 */
export interface EntityModel {
  readonly kind: "event-sourced" | "value";
  readonly name: string;
  readonly typePrefix: string;
  readonly commandNames: readonly string[];
  /** Value entities keep only the latest state (a snapshot per version), not a log. */
  readonly logEvents: boolean;
  readonly snapshotEvery: number;
  initialState(entityId: string): unknown;
  apply(state: unknown, event: DomainEvent): unknown;
  /** Throws `InvalidInput` with the validator's message. */
  validate(command: string, data: unknown): unknown;
  execute(command: string, state: unknown, data: unknown, ctx: CommandContext): Decision;
}

type LooseHandler = (state: unknown, data: unknown, ctx: CommandContext) => unknown;

/**
 * Command handlers are pure and synchronous (plain JavaScript can still return a promise):
 * refuse a promise before its rejection can go unhandled and take the process down.
 */
function synchronous(result: unknown, where: string): unknown {
  if (typeof (result as { then?: unknown } | null)?.then === "function") {
    (result as Promise<unknown>).then(undefined, () => undefined);
    throw new TypeError(`command ${where} returned a promise; command handlers must be synchronous and pure`);
  }
  return result;
}
type LooseCommand = LooseHandler | { readonly input: InputSchema<unknown>; readonly handle: LooseHandler };

function handlerOf(command: LooseCommand): LooseHandler {
  return typeof command === "function" ? command : command.handle;
}

export function toModel(component: Component): EntityModel {
  if (component.kind === "action") throw new TypeError(`${component.name} is an action, not an entity`);
  return component.kind === "value"
    ? valueModel(component as unknown as ValueEntity<unknown, Record<string, LooseCommand>>)
    : eventSourcedModel(
        component as unknown as EventSourcedEntity<
          unknown,
          Record<string, LooseHandler>,
          Record<string, LooseCommand>
        >,
      );
}

function commandOf(commands: Record<string, LooseCommand>, name: string): LooseCommand {
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (command === undefined) throw new TypeError(`unknown command ${name}`);
  return command;
}

/** Runs a command's handler and refuses a promise (handlers are synchronous). */
function runCommand(
  entityName: string,
  commands: Record<string, LooseCommand>,
  command: string,
  state: unknown,
  data: unknown,
  ctx: CommandContext,
): unknown {
  return synchronous(handlerOf(commandOf(commands, command))(state, data, ctx), `${entityName}.${command}`);
}

function validateWith(commands: Record<string, LooseCommand>, name: string, data: unknown): unknown {
  const command = commandOf(commands, name);
  return typeof command === "function" ? data : parseInput(command.input, data);
}

function eventSourcedModel(
  entity: EventSourcedEntity<unknown, Record<string, LooseHandler>, Record<string, LooseCommand>>,
): EntityModel {
  const apply = (state: unknown, event: DomainEvent): unknown => {
    const handler = Object.hasOwn(entity.events, event.type) ? entity.events[event.type] : undefined;
    if (handler === undefined)
      throw new TypeError(`entity ${entity.name} has no handler for event "${event.type}"`);
    return handler(state, event.data, undefined as never);
  };
  return {
    kind: "event-sourced",
    name: entity.name,
    typePrefix: entity.typePrefix,
    commandNames: Object.keys(entity.commands),
    logEvents: true,
    snapshotEvery: entity.snapshotEvery,
    initialState: (id) => entity.initialState(id),
    apply,
    validate: (command, data) => validateWith(entity.commands, command, data),
    execute(command, state, data, ctx) {
      const result = runCommand(entity.name, entity.commands, command, state, data, ctx);
      if (isRejection(result)) return { kind: "rejected", reason: result.reason, details: result.details };
      let events: readonly DomainEvent[] = [];
      let explicit: { value: unknown } | undefined;
      let replyFrom: ((state: unknown) => unknown) | undefined;
      if (Array.isArray(result)) events = result as DomainEvent[];
      else if (isEmit(result)) {
        events = result.events as DomainEvent[];
        if (result.replyFrom) replyFrom = result.replyFrom;
        else if (result.reply !== undefined) explicit = { value: result.reply };
      } else if (isReply(result)) explicit = { value: result.value };
      else if (result !== undefined) {
        throw new TypeError(
          `command ${entity.name}.${command} returned ${typeof result}; return events, emit(), reply() or reject()`,
        );
      }
      let next = state;
      for (const event of events) next = apply(next, event);
      const replyValue = explicit
        ? explicit.value
        : replyFrom
          ? replyFrom(next)
          : entity.reply
            ? entity.reply(next, ctx)
            : undefined;
      return { kind: "accepted", events, state: next, reply: replyValue };
    },
  };
}

function valueModel(entity: ValueEntity<unknown, Record<string, LooseCommand>>): EntityModel {
  return {
    kind: "value",
    name: entity.name,
    typePrefix: entity.typePrefix,
    commandNames: Object.keys(entity.commands),
    logEvents: false,
    snapshotEvery: 1,
    initialState: (id) => entity.initialState(id),
    apply: (_state, event) => event.data,
    validate: (command, data) => validateWith(entity.commands, command, data),
    execute(command, state, data, ctx) {
      const result = runCommand(entity.name, entity.commands, command, state, data, ctx);
      if (isRejection(result)) return { kind: "rejected", reason: result.reason, details: result.details };
      if (isReply(result)) return { kind: "accepted", events: [], state, reply: result.value };
      if (result === undefined) {
        return { kind: "accepted", events: [], state, reply: entity.reply?.(state, ctx) };
      }
      const next = isUpdate(result) ? result.state : result;
      const replyValue =
        isUpdate(result) && result.reply !== undefined ? result.reply : entity.reply?.(next, ctx);
      return {
        kind: "accepted",
        events: [{ type: VALUE_UPDATED, data: next }],
        state: next,
        reply: replyValue,
      };
    },
  };
}

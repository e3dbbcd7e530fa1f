import type { Emit, Rejection, Reply, Update } from "./effects.js";
import type { InputSchema } from "./input.js";

/** What a handler knows about the command it runs; handlers are pure, so this is all they get. */
export interface CommandContext {
  /** The entity id: the CloudEvent `subject`, or `{id}` of `POST /{entity}/{id}/{command}`. */
  readonly entityId: string;
  /** The command name, e.g. `increment`. */
  readonly command: string;
  /** The CloudEvent that carried the command, when it came as one. */
  readonly event?: {
    readonly id: string;
    readonly source: string;
    readonly type: string;
    readonly time?: string;
  };
}

/** What an action handler knows about the event it handles. */
export interface ActionContext {
  readonly type: string;
  readonly event?: CommandContext["event"];
}

type AnyEventHandlers<S> = Record<string, (state: S, data: never) => S>;

/** The event union of an entity: `{ type: "item-added", data: Item } | …`. */
export type EventOf<EH> = {
  [K in keyof EH & string]: EH[K] extends (state: never, data: infer D) => unknown
    ? { readonly type: K; readonly data: D }
    : never;
}[keyof EH & string];

/** What a command handler may return. */
export type CommandResult<E, S> = readonly E[] | Emit<E, S> | Reply | Rejection | undefined | void;

export type CommandHandler<S, E, I = never> = (state: S, data: I, ctx: CommandContext) => CommandResult<E, S>;

/** A command with an input schema: the data is validated (400 on failure) before `handle` runs. */
export interface ValidatedCommand<S, E, I> {
  readonly input: InputSchema<I>;
  readonly handle: CommandHandler<S, E, I>;
}

/** A command: a handler, or a handler with an input schema. */
export type CommandDefinition<S, E, I> = CommandHandler<S, E, I> | ValidatedCommand<S, E, I>;

/** The commands of an entity, with each command's input type `I[K]` inferred from its schema or parameter. */
export type Commands<S, E, I> = { readonly [K in keyof I]: CommandDefinition<S, E, I[K]> };

export interface EventSourcedEntityOptions<S, EH extends AnyEventHandlers<S>, I> {
  /** Lower-case name: routes CloudEvent type `<typePrefix>.<name>.<command>` and `POST /<name>/{id}/<command>`. */
  readonly name: string;
  /** Reverse-DNS prefix of the command types, e.g. `com.example`. */
  readonly typePrefix: string;
  /** The state of an entity with no events (version 0). */
  readonly initialState: (entityId: string) => S;
  /** Event handlers: fold one event into the state and return the new state. */
  readonly events: EH;
  /** Command handlers: return events, `emit(events, reply)`, `reply(value)` or `reject(reason)`. */
  readonly commands: Commands<S, EventOf<EH>, I>;
  /** The reply of a command that does not choose one, computed from the state after it. */
  readonly reply?: (state: S, ctx: CommandContext) => unknown;
  /** Store a snapshot of the state every N events, so loading stays fast as history grows (default 100). */
  readonly snapshotEvery?: number;
}

export interface EventSourcedEntity<S = unknown, EH = AnyEventHandlers<S>, CH = unknown> {
  readonly kind: "event-sourced";
  readonly name: string;
  readonly typePrefix: string;
  readonly initialState: (entityId: string) => S;
  readonly commands: CH;
  readonly events: EH;
  readonly reply: ((state: S, ctx: CommandContext) => unknown) | undefined;
  readonly snapshotEvery: number;
}

/**
 * Defines an event-sourced entity: commands decide, events change the state. Replaying the
 * stored events through `events` rebuilds the state exactly.
 *
 * @example
 * export default defineEntity({
 *   name: "counter",
 *   typePrefix: "com.example",
 *   initialState: () => ({ value: 0 }),
 *   commands: {
 *     increment: (_s, cmd: { by?: number }) => [{ type: "incremented", data: { by: cmd?.by ?? 1 } }],
 *     get: () => [],
 *   },
 *   events: {
 *     incremented: (s, e: { by: number }) => ({ value: s.value + e.by }),
 *   },
 *   reply: (s) => ({ value: s.value }),
 * });
 */
export function defineEntity<S, EH extends AnyEventHandlers<S>, I>(
  options: EventSourcedEntityOptions<S, EH, I>,
): EventSourcedEntity<S, EH, Commands<S, EventOf<EH>, I>> {
  validateName(options.name, "entity");
  validateTypePrefix(options.typePrefix);
  for (const command of Object.keys(options.commands)) validateCommandName(command);
  const snapshotEvery = options.snapshotEvery ?? 100;
  if (!Number.isSafeInteger(snapshotEvery) || snapshotEvery < 1) {
    throw new TypeError(`snapshotEvery must be a positive integer, got ${String(options.snapshotEvery)}`);
  }
  return Object.freeze({
    kind: "event-sourced",
    name: options.name,
    typePrefix: options.typePrefix,
    initialState: options.initialState,
    commands: options.commands,
    events: options.events,
    reply: options.reply,
    snapshotEvery,
  });
}

/** What a value entity's command may return: the new state, `update(state, reply)`, `reply(v)` or `reject(r)`. */
export type ValueCommandResult<S> = S | Update<S> | Reply | Rejection | undefined | void;

export type ValueCommandHandler<S, I = never> = (
  state: S,
  data: I,
  ctx: CommandContext,
) => ValueCommandResult<S>;

export type ValueCommands<S, I> = {
  readonly [K in keyof I]: ValueCommandHandler<S, I[K]> | ValidatedValueCommand<S, I[K]>;
};

export interface ValidatedValueCommand<S, I> {
  readonly input: InputSchema<I>;
  readonly handle: ValueCommandHandler<S, I>;
}

export interface ValueEntityOptions<S, I> {
  readonly name: string;
  readonly typePrefix: string;
  readonly initialState: (entityId: string) => S;
  readonly commands: ValueCommands<S, I>;
  readonly reply?: (state: S, ctx: CommandContext) => unknown;
}

export interface ValueEntity<S = unknown, CH = unknown> {
  readonly kind: "value";
  readonly name: string;
  readonly typePrefix: string;
  readonly initialState: (entityId: string) => S;
  readonly commands: CH;
  readonly reply: ((state: S, ctx: CommandContext) => unknown) | undefined;
}

/**
 * Defines a value entity: each command returns the whole new state (no event log), stored
 * with the same optimistic concurrency and exactly-once redelivery as an event-sourced entity.
 *
 * @example
 * export default defineValueEntity({
 *   name: "profile",
 *   typePrefix: "com.example",
 *   initialState: () => ({ name: "" }),
 *   commands: { rename: (p, cmd: { name: string }) => ({ ...p, name: cmd.name }), get: (p) => reply(p) },
 * });
 */
export function defineValueEntity<S, I>(
  options: ValueEntityOptions<S, I>,
): ValueEntity<S, ValueCommands<S, I>> {
  validateName(options.name, "entity");
  validateTypePrefix(options.typePrefix);
  for (const command of Object.keys(options.commands)) validateCommandName(command);
  return Object.freeze({
    kind: "value",
    name: options.name,
    typePrefix: options.typePrefix,
    initialState: options.initialState,
    commands: options.commands,
    reply: options.reply,
  });
}

/* eslint-disable @typescript-eslint/no-explicit-any -- handlers declare their own data types */
export type ActionHandler<I = any> = (data: I, ctx: ActionContext) => unknown;
type AnyActionHandler =
  ActionHandler<any> | { readonly input: InputSchema<any>; readonly handle: ActionHandler<any> };
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface ActionOptions<H> {
  readonly name: string;
  readonly typePrefix: string;
  /** Handlers by name: `<typePrefix>.<name>.<handler>`. Return the reply data, or nothing for a 202. */
  readonly handlers: H;
}

export interface Action<H = unknown> {
  readonly kind: "action";
  readonly name: string;
  readonly typePrefix: string;
  readonly handlers: H;
}

/**
 * Defines stateless actions: a handler per CloudEvent type that needs no state. What it
 * returns is the reply's data; `undefined` answers 202 with an empty body.
 *
 * @example
 * export default defineAction({
 *   name: "echo",
 *   typePrefix: "com.example",
 *   handlers: { say: (data) => data },
 * });
 */
export function defineAction<const H extends Record<string, AnyActionHandler>>(
  options: ActionOptions<H>,
): Action<H> {
  validateName(options.name, "action");
  validateTypePrefix(options.typePrefix);
  for (const handler of Object.keys(options.handlers)) validateCommandName(handler);
  return Object.freeze({
    kind: "action",
    name: options.name,
    typePrefix: options.typePrefix,
    handlers: options.handlers,
  });
}

/** Anything a function folder may export. */
export type Component = EventSourcedEntity<never, never, never> | ValueEntity<never, never> | Action<never>;

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const COMMAND = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const PREFIX = /^[a-z0-9]+(?:[.-][a-z0-9]+)*$/i;

function validateName(name: string, what: string): void {
  if (!NAME.test(name)) {
    throw new TypeError(
      `${what} name "${name}" must match ${NAME.source} (it appears in event types and URLs)`,
    );
  }
}
function validateCommandName(name: string): void {
  if (!COMMAND.test(name)) throw new TypeError(`command name "${name}" must match ${COMMAND.source}`);
}
function validateTypePrefix(prefix: string): void {
  if (!PREFIX.test(prefix) || prefix.length > 200) {
    throw new TypeError(`typePrefix "${prefix}" must be a dotted name such as "com.example"`);
  }
}

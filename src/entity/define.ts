import type { PublishRule } from "./publish.js";
import { checkSubscriptions, type Subscriptions } from "./subscriptions.js";
import type { AccessRule, Caller } from "./access.js";
import type { Action } from "./action.js";
import type { Emit, Rejection, Reply, Update } from "./effects.js";
import type { TimerEffect, TimerOf } from "./timers.js";
import type { Upcasters, UpcastSource } from "./evolution.js";
import type { InputSchema } from "./input.js";
import { componentNames } from "./names.js";
import type { ReplicatedEntity } from "./replicated/define.js";

export { defineAction } from "./action.js";
export type { Action, ActionContext, ActionHandler, ActionOptions } from "./action.js";

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
  /** Who sent the command, as the host verified it; absent when authentication is off. */
  readonly caller?: Caller;
  /** Set when a timer of this entity ran the command: its name and when it was due (ms since epoch). */
  readonly timer?: { readonly name: string; readonly due: number };
}

type AnyEventHandlers<S> = Record<string, (state: S, data: never) => S>;

/** The event union of an entity: `{ type: "item-added", data: Item } | …`. */
export type EventOf<EH> = {
  [K in keyof EH & string]: EH[K] extends (state: never, data: infer D) => unknown
    ? { readonly type: K; readonly data: D }
    : never;
}[keyof EH & string];

/** What a command handler may return. */
export type CommandResult<E, S, T extends TimerEffect = TimerEffect> =
  readonly E[] | Emit<E, S, T> | Reply | Rejection | undefined | void;

/** A command handler; `T` the timers it may return (see `TimerOf`). */
export type CommandHandler<S, E, I = never, T extends TimerEffect = TimerEffect> = (
  state: S,
  data: I,
  ctx: CommandContext,
) => CommandResult<E, S, T>;

/** A command with an input schema: the data is validated (400 on failure) before `handle` runs. */
export interface ValidatedCommand<S, E, I, T extends TimerEffect = TimerEffect> {
  readonly input: InputSchema<I>;
  readonly handle: CommandHandler<S, E, I, T>;
}

/** A command: a handler, or a handler with an input schema. */
export type CommandDefinition<S, E, I, T extends TimerEffect = TimerEffect> =
  CommandHandler<S, E, I, T> | ValidatedCommand<S, E, I, T>;

/**
 * The commands of an entity, with each command's input type `I[K]` inferred from its schema or
 * parameter. A handler's timers may only schedule these commands, each with its input type.
 */
export type Commands<S, E, I, T extends TimerEffect = TimerEffect> = {
  readonly [K in keyof I]: CommandDefinition<S, E, I[K], T>;
};

export interface EventSourcedEntityOptions<
  S,
  EH extends AnyEventHandlers<S>,
  I,
  T extends TimerEffect = TimerEffect,
> {
  /** Lower-case name: routes CloudEvent type `<typePrefix>.<name>.<command>` and `POST /<name>/{id}/<command>`. */
  readonly name: string;
  /** Reverse-DNS prefix of the command types, e.g. `com.example`. */
  readonly typePrefix: string;
  /** The state of an entity with no events (version 0). */
  readonly initialState: (entityId: string) => S;
  /** Event handlers: fold one event into the state and return the new state. */
  readonly events: EH;
  /** Command handlers: return events, `emit(events, reply)`, `reply(value)` or `reject(reason)`. */
  readonly commands: Commands<S, EventOf<EH>, I, T>;
  /** The reply of a command that does not choose one, computed from the state after it. */
  readonly reply?: (state: S, ctx: CommandContext) => unknown;
  /** Store a snapshot of the state every N events, so loading stays fast as history grows (default 100). */
  readonly snapshotEvery?: number;
  /**
   * The version of the events' and state's shapes (default 1). Stored events and snapshots
   * record it; raise it when an event's data or the state changes shape, and add upcasters.
   */
  readonly schemaVersion?: number;
  /** Turn stored events of older versions, or of renamed types, into current events. */
  readonly upcast?: Upcasters<EventOf<NoInfer<EH>>>;
  /** Migrate a snapshot of an older version instead of replaying every event (optional). */
  readonly upcastState?: (state: unknown, fromVersion: number) => NoInfer<S>;
  /** Who may run each command and read the state; pure and synchronous (403 on `false`). */
  readonly authorize?: AccessRule<keyof NoInfer<I> & string>;
  /** Which committed events go to `K_SINK` through the outbox (see publish.ts); default none. */
  readonly publish?: PublishRule;
  /** CloudEvent types that run a command of this entity (see subscriptions.ts). */
  readonly subscribe?: Subscriptions;
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
  readonly schemaVersion: number;
  /** The upcasters as declared (their results were checked against `EH` by `defineEntity`). */
  readonly upcast: Readonly<Record<string, (data: never, source: UpcastSource) => unknown>>;
  readonly upcastState: ((state: unknown, fromVersion: number) => S) | undefined;
  readonly authorize: AccessRule | undefined;
  readonly publish?: PublishRule | undefined;
  readonly subscribe?: Subscriptions | undefined;
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
export function defineEntity<S, EH extends AnyEventHandlers<S>, I, T extends TimerEffect = TimerOf<I>>(
  options: EventSourcedEntityOptions<S, EH, I, NoInfer<T>>,
): EventSourcedEntity<S, EH, Commands<S, EventOf<EH>, I>> {
  const names = componentNames("entity", options, options.commands);
  const snapshotEvery = options.snapshotEvery ?? 100;
  if (!Number.isSafeInteger(snapshotEvery) || snapshotEvery < 1) {
    throw new TypeError(`snapshotEvery must be a positive integer, got ${String(options.snapshotEvery)}`);
  }
  const schemaVersion = checkSchemaVersion(options.schemaVersion);
  return Object.freeze({
    kind: "event-sourced",
    ...names,
    initialState: options.initialState,
    commands: options.commands,
    events: options.events,
    reply: options.reply,
    snapshotEvery,
    schemaVersion,
    upcast: options.upcast ?? {},
    upcastState: options.upcastState,
    authorize: options.authorize as AccessRule | undefined,
    ...(options.publish === undefined ? {} : { publish: options.publish }),
    ...(options.subscribe === undefined ? {} : { subscribe: checkSubscriptions(options.subscribe) }),
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
  /** The version of the state's shape (default 1); raise it with `upcastState` when it changes. */
  readonly schemaVersion?: number;
  /** Migrate a stored state of an older version; without it such a state is refused (503). */
  readonly upcastState?: (state: unknown, fromVersion: number) => NoInfer<S>;
  /** Who may run each command and read the state; pure and synchronous (403 on `false`). */
  readonly authorize?: AccessRule<keyof NoInfer<I> & string>;
  /** Which new states go to `K_SINK` through the outbox (as `<prefix>.<name>.state`); default none. */
  readonly publish?: PublishRule;
  /** CloudEvent types that run a command of this entity (see subscriptions.ts). */
  readonly subscribe?: Subscriptions;
}

export interface ValueEntity<S = unknown, CH = unknown> {
  readonly kind: "value";
  readonly name: string;
  readonly typePrefix: string;
  readonly initialState: (entityId: string) => S;
  readonly commands: CH;
  readonly reply: ((state: S, ctx: CommandContext) => unknown) | undefined;
  readonly schemaVersion: number;
  readonly upcastState: ((state: unknown, fromVersion: number) => S) | undefined;
  readonly authorize: AccessRule | undefined;
  readonly publish?: PublishRule | undefined;
  readonly subscribe?: Subscriptions | undefined;
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
  return Object.freeze({
    kind: "value",
    ...componentNames("entity", options, options.commands),
    initialState: options.initialState,
    commands: options.commands,
    reply: options.reply,
    schemaVersion: checkSchemaVersion(options.schemaVersion),
    upcastState: options.upcastState,
    authorize: options.authorize as AccessRule | undefined,
    ...(options.publish === undefined ? {} : { publish: options.publish }),
    ...(options.subscribe === undefined ? {} : { subscribe: checkSubscriptions(options.subscribe) }),
  });
}

/** Anything a function folder may export. */
export type Component =
  | EventSourcedEntity<never, never, never>
  | ValueEntity<never, never>
  | Action<never>
  | ReplicatedEntity<never, never, never>;

function checkSchemaVersion(version: number | undefined): number {
  if (version === undefined) return 1;
  if (!Number.isSafeInteger(version) || version < 1 || version > 999_999_999)
    throw new TypeError(`schemaVersion must be a positive integer, got ${String(version)}`);
  return version;
}

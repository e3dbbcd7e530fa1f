import { checkAccess, type AccessRequest, type AccessRule, type Caller } from "./access.js";
import type { CommandContext, Component, EventSourcedEntity, ValueEntity } from "./define.js";
import { isEmit, isRejection, isReply, isUpdate } from "./effects.js";
import { compileUpcasters, definitionFingerprint, UnreadableEvent, type UpcastSource } from "./evolution.js";
import { compilePublish, type PublicEvent } from "./publish.js";
import { parseInput, type InputSchema } from "./input.js";
import { judgeSnapshot, type SnapshotRules, type SnapshotVerdict, type StoredSnapshot } from "./snapshots.js";
import type { TimerEffect } from "./timers.js";

/** One event as the host stores it. */
export interface DomainEvent {
  readonly type: string;
  readonly data: unknown;
  /**
   * The entity's schema version that wrote it; absent means 1. Set on the events a command
   * decides when the entity's `schemaVersion` is above 1, and kept by the store.
   */
  readonly schemaVersion?: number;
}

/** What a command decided, with the state after its events. */
export type Decision =
  | {
      readonly kind: "accepted";
      readonly events: readonly DomainEvent[];
      readonly state: unknown;
      readonly reply: unknown;
      /** Timers scheduled or cancelled by the command (event-sourced entities). */
      readonly timers?: readonly TimerEffect[];
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
  /** The definition's schema version: store it with every append (events and snapshot). */
  readonly schemaVersion: number;
  /** What a snapshot's state depends on: store it with every snapshot, give it back on load. */
  readonly fingerprint: string;
  initialState(entityId: string): unknown;
  /** Folds one stored event, upcast first when it is old; throws `UnreadableEvent` (answer 503). */
  apply(state: unknown, event: DomainEvent): unknown;
  /** The current events a stored event stands for (what `apply` folds); throws `UnreadableEvent`. */
  upcastEvent(event: DomainEvent): readonly DomainEvent[];
  /** Whether a loaded snapshot can be used; throws `UnreadableState` for a value entity's. */
  acceptSnapshot(snapshot: StoredSnapshot): SnapshotVerdict;
  /** The entity's access rule: `false` answers 403 before the command is queued. */
  authorize(caller: Caller | undefined, request: AccessRequest): boolean;
  /** Throws `InvalidInput` with the validator's message. */
  validate(command: string, data: unknown): unknown;
  execute(command: string, state: unknown, data: unknown, ctx: CommandContext): Decision;
  /** The public form of a committed event for the outbox; absent when the entity publishes nothing. */
  readonly publish?: ((event: DomainEvent) => PublicEvent | undefined) | undefined;
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
  const current = entity.schemaVersion;
  /** Folds a current event (decided now, or already upcast). */
  const fold = (state: unknown, event: DomainEvent): unknown => {
    const handler = Object.hasOwn(entity.events, event.type) ? entity.events[event.type] : undefined;
    if (handler === undefined)
      throw new UnreadableEvent(
        entity.name,
        event.type,
        event.schemaVersion ?? 1,
        "no event handler accepts it",
      );
    return handler(state, event.data, undefined as never);
  };
  const upcastEvent = compileUpcasters(
    entity.name,
    current,
    entity.events,
    entity.upcast as Record<string, (data: unknown, source: UpcastSource) => unknown>,
  ) as (event: DomainEvent) => readonly DomainEvent[];
  const apply = (state: unknown, event: DomainEvent): unknown => {
    if ((event.schemaVersion ?? 1) === current && Object.hasOwn(entity.events, event.type))
      return fold(state, event);
    let next = state;
    for (const upcast of upcastEvent(event)) next = fold(next, upcast);
    return next;
  };
  const rules = {
    entity: entity.name,
    kind: "event-sourced" as const,
    schemaVersion: current,
    fingerprint: definitionFingerprint(current, {
      events: entity.events,
      upcast: entity.upcast,
      initialState: entity.initialState,
    }),
    upcastState: entity.upcastState,
  };
  const stamp =
    current === 1
      ? (events: readonly DomainEvent[]) => events
      : (events: readonly DomainEvent[]) =>
          events.map((e) => ({ type: e.type, data: e.data, schemaVersion: current }));
  return {
    kind: "event-sourced",
    ...sharedMembers(entity, rules),
    logEvents: true,
    snapshotEvery: entity.snapshotEvery,
    apply,
    upcastEvent,
    ...publishOf(entity.publish),
    execute(command, state, data, ctx) {
      const result = runCommand(entity.name, entity.commands, command, state, data, ctx);
      if (isRejection(result)) return { kind: "rejected", reason: result.reason, details: result.details };
      let decided: readonly DomainEvent[] = [];
      let explicit: { value: unknown } | undefined;
      let replyFrom: ((state: unknown) => unknown) | undefined;
      let timers: readonly TimerEffect[] | undefined;
      if (Array.isArray(result)) decided = result as DomainEvent[];
      else if (isEmit(result)) {
        decided = result.events as DomainEvent[];
        timers = result.timers;
        if (result.replyFrom) replyFrom = result.replyFrom;
        else if (result.reply !== undefined) explicit = { value: result.reply };
      } else if (isReply(result)) explicit = { value: result.value };
      else if (result !== undefined) {
        throw new TypeError(
          `command ${entity.name}.${command} returned ${typeof result}; return events, emit(), reply() or reject()`,
        );
      }
      let next = state;
      for (const event of decided) next = fold(next, event);
      const events = stamp(decided);
      const replyValue = explicit
        ? explicit.value
        : replyFrom
          ? replyFrom(next)
          : entity.reply
            ? entity.reply(next, ctx)
            : undefined;
      if (timers !== undefined) return { kind: "accepted", events, state: next, reply: replyValue, timers };
      return { kind: "accepted", events, state: next, reply: replyValue };
    },
  };
}

/** What both kinds of entity model have alike: names, versions, initial state and the checks. */
function sharedMembers(
  entity: {
    readonly name: string;
    readonly typePrefix: string;
    readonly commands: Record<string, LooseCommand>;
    readonly initialState: (entityId: string) => unknown;
    readonly authorize: AccessRule | undefined;
  },
  rules: SnapshotRules & { readonly fingerprint: string },
) {
  return {
    name: entity.name,
    typePrefix: entity.typePrefix,
    commandNames: Object.keys(entity.commands),
    schemaVersion: rules.schemaVersion,
    fingerprint: rules.fingerprint,
    initialState: (id: string) => entity.initialState(id),
    acceptSnapshot: (snapshot: StoredSnapshot) => judgeSnapshot(rules, snapshot),
    authorize: (caller: Caller | undefined, request: AccessRequest) =>
      checkAccess(entity.authorize, caller, request),
    validate: (command: string, data: unknown) => validateWith(entity.commands, command, data),
  } satisfies Partial<EntityModel>;
}

function valueModel(entity: ValueEntity<unknown, Record<string, LooseCommand>>): EntityModel {
  const rules = {
    entity: entity.name,
    kind: "value" as const,
    schemaVersion: entity.schemaVersion,
    // A value entity's state is data, not derived from handlers: only its version matters.
    fingerprint: `v${entity.schemaVersion}`,
    upcastState: entity.upcastState,
  };
  return {
    kind: "value",
    ...sharedMembers(entity, rules),
    logEvents: false,
    snapshotEvery: 1,
    apply: (_state, event) => event.data,
    upcastEvent: (event) => [event],
    ...publishOf(entity.publish),
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
        events: [
          rules.schemaVersion === 1
            ? { type: VALUE_UPDATED, data: next }
            : { type: VALUE_UPDATED, data: next, schemaVersion: rules.schemaVersion },
        ],
        state: next,
        reply: replyValue,
      };
    },
  };
}

/** The model's `publish` member, present only for an entity that publishes (the others pay nothing). */
function publishOf(rule: Parameters<typeof compilePublish>[0]): Pick<EntityModel, "publish"> {
  const publish = compilePublish(rule);
  return publish === undefined ? {} : { publish };
}

import type { AccessRule } from "../access.js";
import type { CommandContext } from "../define.js";
import type { Emit, Rejection, Reply } from "../effects.js";
import type { InputSchema } from "../input.js";
import { FIELD } from "./cells.js";
import { operations, type Operations, type ReplicatedOp } from "./operations.js";
import { compileReplicatedPublish, type ReplicatedPublishRule } from "./publish.js";
import type { ValueSpecs, Values } from "./types.js";

/** A replicated command's context: the usual one, plus the operation builders of its values. */
export interface ReplicatedContext<V> extends CommandContext {
  readonly ops: Operations<V>;
}

/** An operation on one of the declared values of `V`. */
export type OpOf<V> = ReplicatedOp<keyof V & string>;

/**
 * What a replicated command returns: operations (the reply is then the entity's `reply` of the
 * values after them), `emit(ops, reply)`, `reply(value)` (a read), `reject(reason)`, or nothing.
 */
export type ReplicatedCommandResult<V> =
  readonly OpOf<V>[] | Emit<OpOf<V>, Values<V>> | Reply | Rejection | undefined | void;

export type ReplicatedCommandHandler<V, I = never> = (
  values: Values<V>,
  data: I,
  ctx: ReplicatedContext<V>,
) => ReplicatedCommandResult<V>;

export interface ValidatedReplicatedCommand<V, I> {
  readonly input: InputSchema<I>;
  readonly handle: ReplicatedCommandHandler<V, I>;
}

export type ReplicatedCommands<V, I> = {
  readonly [K in keyof I]: ReplicatedCommandHandler<V, I[K]> | ValidatedReplicatedCommand<V, I[K]>;
};

export interface ReplicatedEntityOptions<V extends ValueSpecs, I, S> {
  /** Lower-case name: CloudEvent type `<typePrefix>.<name>.<command>`, `POST /<name>/{id}/<command>`. */
  readonly name: string;
  readonly typePrefix: string;
  /** The replicated values, e.g. `{ count: counter(), tags: set<string>() }`. */
  readonly values: V;
  readonly commands: ReplicatedCommands<V, I>;
  /** The reply of a command that does not choose one, from the values after its operations. */
  readonly reply?: (values: Values<V>, ctx: CommandContext) => unknown;
  /** The entity's state as reads show it (`GET /<name>/{id}`); default: the values themselves. */
  readonly view?: (values: Values<V>) => S;
  /** Who may run each command and read the values; pure and synchronous (403 on `false`). */
  readonly authorize?: AccessRule<keyof NoInfer<I> & string>;
  /**
   * What each applied command publishes to `K_SINK` through the outbox, written atomically with
   * its operations: `{ vote: "voted" }` (the command's data as the event's), a function of the
   * data per command, or one function of the applied command. Default: nothing.
   */
  readonly publish?: ReplicatedPublishRule<NoInfer<I>>;
}

export interface ReplicatedEntity<V = ValueSpecs, CH = unknown, S = unknown> {
  readonly kind: "replicated";
  readonly name: string;
  readonly typePrefix: string;
  readonly values: V;
  readonly commands: CH;
  readonly reply: ((values: Values<V>, ctx: CommandContext) => unknown) | undefined;
  readonly view: ((values: Values<V>) => S) | undefined;
  readonly authorize: AccessRule | undefined;
  /** What applied commands publish, as declared (see publish.ts); absent: nothing. */
  readonly publish?: unknown;
  /** The operation builders, for code outside the handlers (tests, helpers). */
  readonly ops: Operations<V>;
}

/**
 * Defines a replicated entity: its state is made of replicated values (counters, sets,
 * registers, flags, maps, votes, leases) and its commands return operations on them. The
 * operations of a command are applied atomically, with no version check: they commute, so
 * any number of replicas can update one entity at once without conflicts or retries.
 *
 * @example
 * export default defineReplicatedEntity({
 *   name: "likes",
 *   typePrefix: "com.example",
 *   values: { count: counter() },
 *   commands: { like: (_v, cmd: { by?: number }, { ops }) => [ops.count.increment(cmd?.by ?? 1)] },
 *   reply: (v) => ({ count: v.count }),
 * });
 */
export function defineReplicatedEntity<const V extends ValueSpecs, I, S = Values<V>>(
  options: ReplicatedEntityOptions<V, I, S>,
): ReplicatedEntity<V, ReplicatedCommands<V, I>, S> {
  if (!NAME.test(options.name))
    throw new TypeError(`entity name "${options.name}" must match ${NAME.source}`);
  if (!PREFIX.test(options.typePrefix) || options.typePrefix.length > 200) {
    throw new TypeError(`typePrefix "${options.typePrefix}" must be a dotted name such as "com.example"`);
  }
  for (const command of Object.keys(options.commands)) {
    if (!COMMAND.test(command)) throw new TypeError(`command name "${command}" must match ${COMMAND.source}`);
  }
  const fields = Object.keys(options.values);
  if (fields.length === 0) throw new TypeError(`replicated entity ${options.name} declares no values`);
  for (const field of fields) {
    if (!FIELD.test(field)) throw new TypeError(`value name "${field}" must match ${FIELD.source}`);
  }
  // Checked now: a bad rule, or an event named like a command, fails at definition time.
  compileReplicatedPublish(options.name, Object.keys(options.commands), options.publish);
  return Object.freeze({
    kind: "replicated",
    name: options.name,
    typePrefix: options.typePrefix,
    values: options.values,
    commands: options.commands,
    reply: options.reply,
    view: options.view,
    authorize: options.authorize as AccessRule | undefined,
    ops: operations(options.values, `replicated entity ${options.name}`),
    ...(options.publish === undefined ? {} : { publish: options.publish }),
  });
}

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const COMMAND = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const PREFIX = /^[a-z0-9]+(?:[.-][a-z0-9]+)*$/i;

import { checkAccess, type AccessRequest, type Caller } from "../access.js";
import type { CommandContext } from "../define.js";
import { isEmit, isRejection, isReply } from "../effects.js";
import { parseInput, type InputSchema } from "../input.js";
import { LETTER, type Cells } from "./cells.js";
import { decodeValues } from "./decode.js";
import type { ReplicatedEntity } from "./define.js";
import type { ReplicatedOp } from "./operations.js";
import { compileReplicatedPublish, type PublishCommand } from "./publish.js";
import type { ValueSpecs } from "./types.js";

/** An entity's stored cells, their sequence, and the store's clock when they were read (ms). */
export interface ReplicatedSnapshot {
  readonly seq: number;
  readonly cells: Cells;
  readonly nowMs: number;
}

/** What a replicated command decided. */
export type ReplicatedDecision =
  | {
      readonly kind: "accepted";
      /** To apply atomically (none: a read, nothing to store). */
      readonly ops: readonly ReplicatedOp[];
      /** Cells the store returns after applying, for the reply: exact names, or prefixes ending in `|`. */
      readonly returnCells: readonly string[];
      /** The reply, from the snapshot after the operations (`afterApply`). */
      readonly reply: (after: ReplicatedSnapshot) => unknown;
    }
  | { readonly kind: "rejected"; readonly reason: string; readonly details: unknown };

/** The view of a replicated entity that the host and the testkit run. */
export interface ReplicatedModel {
  readonly kind: "replicated";
  readonly name: string;
  readonly typePrefix: string;
  readonly commandNames: readonly string[];
  readonly specs: ValueSpecs;
  /** Throws `InvalidInput` with the validator's message. */
  validate(command: string, data: unknown): unknown;
  /** Runs the handler on the values of `before`. Throws `TypeError` on a bad operation. */
  execute(
    command: string,
    before: ReplicatedSnapshot,
    data: unknown,
    ctx: CommandContext,
  ): ReplicatedDecision;
  /**
   * Runs the handler without values: the decision, or undefined when the handler read any
   * value (it then needs `execute` on loaded values). A decision made without reading holds
   * on any state, so the host may apply it without loading the entity first.
   */
  executeBlind(command: string, data: unknown, ctx: CommandContext): ReplicatedDecision | undefined;
  /** The entity's `authorize` rule (true without one). */
  authorize(caller: Caller | undefined, request: AccessRequest): boolean;
  /** The merged values (what handlers read). */
  values(snapshot: ReplicatedSnapshot): Record<string, unknown>;
  /** The state as reads show it: the entity's `view` of the values, or the values. */
  state(snapshot: ReplicatedSnapshot): unknown;
  /** The public events of an applied command; absent when the entity publishes nothing. */
  readonly publish?: PublishCommand;
}

type Loose = (values: unknown, data: unknown, ctx: unknown) => unknown;
type LooseCommand = Loose | { readonly input: InputSchema<unknown>; readonly handle: Loose };

export function toReplicatedModel(entity: ReplicatedEntity<ValueSpecs, unknown, unknown>): ReplicatedModel {
  const specs = entity.values;
  const cellNames = cellNamesOf(specs);
  const commands = entity.commands as Record<string, LooseCommand>;
  const commandOf = (name: string): LooseCommand => {
    const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
    if (command === undefined) throw new TypeError(`unknown command ${name}`);
    return command;
  };
  const values = (s: ReplicatedSnapshot) => decodeValues(specs, s.cells, s.nowMs);
  const defaultReply = (after: ReplicatedSnapshot, ctx: CommandContext) =>
    entity.reply?.(values(after) as never, ctx);
  const decide = (command: string, vals: unknown, data: unknown, ctx: CommandContext): ReplicatedDecision => {
    const definition = commandOf(command);
    const handle = typeof definition === "function" ? definition : definition.handle;
    const result = handle(vals, data, { ...ctx, ops: entity.ops });
    if (typeof (result as { then?: unknown } | null)?.then === "function") {
      (result as Promise<unknown>).then(undefined, () => undefined);
      throw new TypeError(
        `command ${entity.name}.${command} returned a promise; handlers must be synchronous`,
      );
    }
    if (isRejection(result)) return { kind: "rejected", reason: result.reason, details: result.details };
    if (isReply(result)) return accepted([], [], () => result.value);
    if (result === undefined) return accepted([], [], (after) => defaultReply(after, ctx));
    const ops = Array.isArray(result) ? result : isEmit(result) ? result.events : undefined;
    if (ops === undefined) {
      throw new TypeError(
        `command ${entity.name}.${command} returned ${typeof result}; return operations, emit(), reply() or reject()`,
      );
    }
    const checked = ops.map((op) => checkOp(cellNames, entity.name, op));
    if (isEmit(result) && !result.replyFrom) return accepted(checked, [], () => result.reply);
    const from = isEmit(result) ? result.replyFrom : undefined;
    return accepted(checked, returnCellsOf(specs, checked), (after) =>
      from ? from(values(after)) : defaultReply(after, ctx),
    );
  };
  /** Commands whose handler read a value when run blind. */
  const readers = new Set<string>();
  // The values a blind run sees: one for every run, since handlers run synchronously.
  let blindRead = false;
  const touched = (): never => {
    blindRead = true;
    throw new ValuesNeeded();
  };
  const blind = new Proxy(Object.create(null) as object, {
    get: touched,
    has: touched,
    ownKeys: touched,
    getOwnPropertyDescriptor: touched,
  });
  const publish = compileReplicatedPublish(entity.name, Object.keys(commands), entity.publish);
  return {
    kind: "replicated",
    name: entity.name,
    typePrefix: entity.typePrefix,
    commandNames: Object.keys(commands),
    specs,
    validate(command, data) {
      const definition = commandOf(command);
      return typeof definition === "function" ? data : parseInput(definition.input, data);
    },
    execute: (command, before, data, ctx) => decide(command, values(before), data, ctx),
    executeBlind(command, data, ctx) {
      // Reading any value throws at once: the handler stops there, before doing more work,
      // and the host loads the values and runs it again. A command seen reading once is not
      // run blind again (the load path is right for every command; this only saves the try).
      if (readers.has(command)) return undefined;
      blindRead = false;
      try {
        const decision = decide(command, blind, data, ctx);
        if (!blindRead) return decision;
      } catch (error) {
        if (!blindRead) throw error;
      }
      readers.add(command);
      return undefined;
    },
    authorize: (caller, request) => checkAccess(entity.authorize, caller, request),
    values,
    state: (snapshot) => (entity.view ? entity.view(values(snapshot) as never) : values(snapshot)),
    ...(publish === undefined ? {} : { publish }),
  };
}

/** Thrown into a handler run by `executeBlind` when it reads a value. */
class ValuesNeeded extends Error {}

function accepted(
  ops: readonly ReplicatedOp[],
  returnCells: readonly string[],
  reply: (after: ReplicatedSnapshot) => unknown,
): ReplicatedDecision {
  return { kind: "accepted", ops, returnCells, reply };
}

/** Per declared field, the names of its cells: `<letter>|<field>`, each of a map's types. */
type CellNames = ReadonlyMap<string, readonly string[]>;

function cellNamesOf(specs: ValueSpecs): CellNames {
  return new Map(
    Object.entries(specs).map(([field, spec]) => {
      const letters = spec.kind === "map" ? ["k", LETTER[spec.value.kind]] : [LETTER[spec.kind]];
      return [field, letters.map((l) => `${l}|${field}`)];
    }),
  );
}

/** Refuses anything but an operation built for one of this entity's values. */
function checkOp(names: CellNames, entity: string, op: unknown): ReplicatedOp {
  const field = (op as { field?: unknown } | null)?.field;
  const candidate = op as ReplicatedOp;
  const cell = candidate.cell as unknown;
  const on = (name: string) =>
    typeof cell === "string" &&
    cell.startsWith(name) &&
    (cell.length === name.length || cell.charCodeAt(name.length) === 124); // "|"
  const own = typeof field === "string" ? names.get(field) : undefined;
  if (own === undefined || !own.some(on)) {
    throw new TypeError(
      `replicated entity ${entity} got an operation on an undeclared value: ${JSON.stringify(op)}`,
    );
  }
  return candidate;
}

/** The cells of every field the operations touch (exact names, or prefixes ending in `|`). */
export function returnCellsOf(specs: ValueSpecs, ops: readonly ReplicatedOp[]): string[] {
  const names = new Set<string>();
  for (const op of ops) {
    const spec = specs[op.field]!;
    if (spec.kind === "map") names.add(`k|${op.field}|`).add(`${LETTER[spec.value.kind]}|${op.field}|`);
    else if (spec.kind === "set" || spec.kind === "vote") names.add(`${LETTER[spec.kind]}|${op.field}|`);
    else names.add(`${LETTER[spec.kind]}|${op.field}`);
  }
  return [...names];
}

/** True when `name` is one of `returnCells` or starts with one of its prefixes. */
export function matchesReturn(name: string, returnCells: readonly string[]): boolean {
  return returnCells.some((r) => (r.endsWith("|") ? name.startsWith(r) : name === r));
}

/**
 * The snapshot after an apply: `before`'s cells with the returned ones in place of those
 * `returnCells` names (they were all returned, so a missing one was deleted).
 */
export function afterApply(
  before: ReplicatedSnapshot,
  returnCells: readonly string[],
  after: { readonly seq: number; readonly nowMs: number; readonly cells: Cells },
): ReplicatedSnapshot {
  const cells = new Map<string, string>();
  for (const [name, value] of before.cells) if (!matchesReturn(name, returnCells)) cells.set(name, value);
  for (const [name, value] of after.cells) cells.set(name, value);
  cells.set("#", String(after.seq));
  return { seq: after.seq, nowMs: after.nowMs, cells };
}

/**
 * What a command's dedup record keeps, so that a redelivery gets the same reply: the reply
 * itself when it did not depend on the values after the operations, else the cells the apply
 * returned (flat name, value pairs) to compute it again.
 */
export interface ReplicatedDedupRecord {
  readonly replyId: string;
  readonly seq: number;
  readonly reply?: unknown;
  readonly cells?: readonly string[];
}

/** Cells from flat `name, value, …` pairs (a Redis HGETALL reply). */
export function cellsFromPairs(pairs: readonly string[]): Map<string, string> {
  const cells = new Map<string, string>();
  for (let i = 0; i + 1 < pairs.length; i += 2) cells.set(pairs[i]!, pairs[i + 1]!);
  return cells;
}

/**
 * The reply of a redelivered command: the recorded reply, or the command decided again on
 * `current` with its reply computed from the recorded cells (the values its operations left).
 */
export function replyOfDuplicate(
  model: ReplicatedModel,
  command: string,
  data: unknown,
  ctx: CommandContext,
  current: ReplicatedSnapshot,
  record: ReplicatedDedupRecord,
): unknown {
  if (Object.hasOwn(record, "reply")) return record.reply;
  const decision = model.execute(command, current, data, ctx);
  if (decision.kind === "rejected") return undefined;
  const cells = cellsFromPairs(record.cells ?? []);
  return decision.reply(
    afterApply(current, decision.returnCells, { seq: record.seq, nowMs: current.nowMs, cells }),
  );
}

import { InvalidInput } from "../input.js";
import type { PublicEvent } from "../publish.js";
import { applyOps } from "./apply.js";
import { SEQ, type Cells } from "./cells.js";
import type { ReplicatedEntity } from "./define.js";
import {
  afterApply,
  matchesReturn,
  toReplicatedModel,
  type ReplicatedDecision,
  type ReplicatedSnapshot,
} from "./model.js";
import type { ReplicatedOp } from "./operations.js";
import type { Values } from "./types.js";

/** What one command did in the test kit. */
export interface ReplicatedRun<V, S> {
  readonly ops: readonly ReplicatedOp[];
  readonly reply: unknown;
  readonly rejected: string | undefined;
  /** The input schema's message (the host answers 400). */
  readonly invalid: string | undefined;
  /** Why the store refused the operations (a stale fencing token, a counter overflow). */
  readonly refused: string | undefined;
  readonly values: Values<V>;
  readonly state: S;
  /** The events it published (`publish`), by name, as the host writes them to the outbox. */
  readonly published: readonly PublicEvent[];
}

export interface ReplicatedTestKit<V, S> {
  readonly entityId: string;
  readonly values: Values<V>;
  /** The state as `GET /<name>/{id}` shows it. */
  readonly state: S;
  /** The test clock, ms since the epoch (starts at 1,700,000,000,000). */
  readonly now: number;
  advance(ms: number): this;
  /** Runs a command as the host does: validate, decide on the current values, apply, reply. */
  run(command: string, data?: unknown): ReplicatedRun<V, S>;
  /**
   * Decides a command on the current values without applying it; `apply` it later, after
   * others, to play concurrent commands (each decided before the other was applied).
   */
  decide(command: string, data?: unknown): { apply(): ReplicatedRun<V, S> };
}

/**
 * Runs a replicated entity's commands in memory with the same merge rules as the Redis script
 * (`applyOps`) and a clock you move with `advance`.
 *
 * @example
 * const likes = testReplicatedEntity(likesEntity, "post-1");
 * expect(likes.run("like", { by: 2 }).reply).toEqual({ count: 2 });
 */
export function testReplicatedEntity<V, CH, S>(
  entity: ReplicatedEntity<V, CH, S>,
  entityId = "test-entity",
): ReplicatedTestKit<V, S> {
  const model = toReplicatedModel(entity as never);
  let cells: Cells = new Map();
  let nowMs = 1_700_000_000_000;
  const snapshot = (): ReplicatedSnapshot => ({ seq: Number(cells.get(SEQ) ?? "0"), cells, nowMs });
  const outcome = (
    decision: ReplicatedDecision,
    before: ReplicatedSnapshot,
    command: string,
    data: unknown,
  ): ReplicatedRun<V, S> => {
    const base = {
      published: [] as readonly PublicEvent[],
      ops: [] as readonly ReplicatedOp[],
      rejected: undefined,
      invalid: undefined,
      refused: undefined,
    };
    const result = (after: ReplicatedSnapshot, extra: Partial<ReplicatedRun<V, S>>): ReplicatedRun<V, S> => ({
      ...base,
      reply: undefined,
      values: model.values(after) as Values<V>,
      state: model.state(after) as S,
      ...extra,
    });
    if (decision.kind === "rejected") return result(snapshot(), { rejected: decision.reason });
    if (decision.ops.length === 0) return result(before, { reply: decision.reply(before) });
    // As the host does: publish sees the reply only when it is known before the apply.
    const known = decision.returnCells.length === 0 ? decision.reply(before) : undefined;
    const published = model.publish?.(command, data, known) ?? [];
    const applied = applyOps(cells, decision.ops, { nowUs: nowMs * 1000, observed: before.seq });
    if (applied.kind === "refused") return result(snapshot(), { ops: decision.ops, refused: applied.reason });
    cells = applied.cells;
    const returned = new Map([...cells].filter(([name]) => matchesReturn(name, decision.returnCells)));
    const after = afterApply(before, decision.returnCells, { seq: applied.seq, nowMs, cells: returned });
    return result(snapshot(), { ops: decision.ops, reply: decision.reply(after), published });
  };
  const decide = (command: string, data: unknown) => {
    const before = snapshot();
    const ctx = { entityId, command };
    try {
      const valid = model.validate(command, data);
      const decision = model.execute(command, before, valid, ctx);
      return { apply: () => outcome(decision, before, command, valid) };
    } catch (error) {
      if (!(error instanceof InvalidInput)) throw error;
      const invalid = error.message;
      return {
        apply: (): ReplicatedRun<V, S> => ({
          ops: [],
          published: [],
          reply: undefined,
          rejected: undefined,
          invalid,
          refused: undefined,
          values: model.values(snapshot()) as Values<V>,
          state: model.state(snapshot()) as S,
        }),
      };
    }
  };
  const kit: ReplicatedTestKit<V, S> = {
    entityId,
    get values() {
      return model.values(snapshot()) as Values<V>;
    },
    get state() {
      return model.state(snapshot()) as S;
    },
    get now() {
      return nowMs;
    },
    advance(ms) {
      nowMs += ms;
      return kit;
    },
    run: (command, data) => decide(command, data).apply(),
    decide,
  };
  return kit;
}

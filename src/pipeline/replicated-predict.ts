import { applyOps } from "../entity/replicated/apply.js";
import { SEQ, type Cells } from "../entity/replicated/cells.js";
import type { ReplicatedSnapshot } from "../entity/replicated/model.js";
import type { ReplicatedOp } from "../entity/replicated/operations.js";
import {
  messageJson,
  type ReplicatedApplyRequest,
  type ReplicatedBatchItem,
  type ReplicatedBatchResult,
} from "../store/replicated/codec.js";
import type { PredictedBatch } from "../store/replicated/predicted.js";
import { encodeRecord } from "../store/replicated/record.js";
import type { EntityKey } from "../store/state-store.js";

/** A batch's outcome as computed by the host, and what to write for it. */
export interface Prediction {
  readonly batch: PredictedBatch;
  /** The entity's cells after the batch. */
  readonly after: Cells;
  /** The batch's result once the store applied it, at the store's clock. */
  outcome(nowMs: number, withAll: boolean): ReplicatedBatchResult;
}

/**
 * The outcome of `requests` applied in order to `cells` (an entity's every cell, its sequence
 * included), computed with the rules the apply script runs (`applyOps`), and the writes that
 * make it so. Undefined when the host cannot know the outcome: an operation that reads the
 * store's clock (registers, first-writer registers, votes with a TTL, leases), or a dedup id
 * twice in the batch.
 */
export function predictBatch(
  key: EntityKey,
  cells: Cells,
  requests: readonly ReplicatedApplyRequest[],
): Prediction | undefined {
  const ids = new Set<string>();
  for (const request of requests) {
    if (request.checkDedup.length > 1 || !request.ops.every(timeless)) return undefined;
    const id = request.checkDedup[0];
    if (id !== undefined) {
      if (ids.has(id) || (request.writeDedup !== undefined && request.writeDedup.id !== id)) return undefined;
      ids.add(id);
    }
  }
  let state = cells;
  // Applied results get the store's clock once it answered.
  const items: ReplicatedBatchItem[] = [];
  const applied: Array<{ nowMs: number }> = [];
  const commands: Array<{ dedupId: string; record: string }> = [];
  const messages: string[] = [];
  for (const request of requests) {
    const dedupId = request.checkDedup[0] ?? "";
    // The clock is not read by the operations let through above.
    const result = applyOps(state, request.ops, { nowUs: 0, observed: request.observed });
    if (result.kind === "refused") {
      items.push(result);
      commands.push({ dedupId, record: "" });
      continue;
    }
    state = result.cells;
    const returned = collect(state, request.returnCells);
    const write = request.writeDedup;
    const record =
      write === undefined ? "" : encodeRecord(result.seq, write.replyId, write.reply, pairs(returned));
    commands.push({ dedupId, record });
    const item = { kind: "applied" as const, seq: result.seq, nowMs: 0, cells: returned };
    items.push(item);
    applied.push(item);
    const drafts = request.ops.length === 0 ? [] : (request.publish ?? []);
    drafts.forEach((draft, i) => messages.push(messageJson(key, result.seq, i, drafts.length, draft)));
  }
  const after = state;
  const seq = Number(after.get(SEQ) ?? "0");
  const set = new Map<string, string>();
  for (const [name, value] of after) if (name !== SEQ && cells.get(name) !== value) set.set(name, value);
  const deleted = [...cells.keys()].filter((name) => name !== SEQ && !after.has(name));
  return {
    batch: {
      expectedSeq: Number(cells.get(SEQ) ?? "0"),
      seq,
      set,
      deleted,
      commands,
      dedupTtlMs: Math.max(...requests.map((r) => r.dedupTtlMs)),
      messages,
    },
    after,
    outcome(nowMs, withAll) {
      const all: ReplicatedSnapshot | undefined = withAll ? { seq, cells: after, nowMs } : undefined;
      for (const item of applied) item.nowMs = nowMs;
      return { results: items, all };
    },
  };
}

/** Operations whose outcome does not depend on the store's clock. */
function timeless(op: ReplicatedOp): boolean {
  switch (op.code) {
    case "inc":
      return Number.isSafeInteger(Number(op.a)) && op.a !== "";
    case "vote":
      return op.b === "0";
    case "flag":
    case "sadd":
    case "srem":
    case "unvote":
    case "mrem":
    case "fence":
      return true;
    default:
      return false;
  }
}

/** Cells as flat name, value pairs. */
function pairs(cells: ReadonlyMap<string, string>): string[] {
  const flat: string[] = [];
  for (const [name, value] of cells) flat.push(name, value);
  return flat;
}

/** The cells a command returns (exact names, or prefixes ending in `|`), as the apply script collects them. */
function collect(cells: Cells, returnCells: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const want of returnCells) {
    if (want.endsWith("|")) {
      for (const [name, value] of cells) if (name.startsWith(want)) out.set(name, value);
    } else {
      const value = cells.get(want);
      if (value !== undefined) out.set(want, value);
    }
  }
  return out;
}

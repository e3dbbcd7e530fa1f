import {
  cellsFromPairs,
  type ReplicatedDedupRecord,
  type ReplicatedSnapshot,
} from "../../entity/replicated/model.js";
import type { ReplicatedOp } from "../../entity/replicated/operations.js";
import { SEQ } from "../../entity/replicated/cells.js";
import { encodeEntityId, encodeSegment, KeyLayout } from "../redis-keys.js";
import type { EntityKey } from "../state-store.js";

/**
 * Redis encoding of replicated entities. An entity's values are one hash, beside its dedup
 * records, under the entity's hash tag (one Redis Cluster slot):
 *
 * ```
 * <prefix>:<service>:<entityType>:{<id>}:r          hash: the cells (src/entity/replicated/cells.ts)
 * <prefix>:<service>:<entityType>:{<id>}:d:<dedup>  string: ReplicatedDedupRecord JSON, with a TTL
 * ```
 */
export interface ReplicatedKeys {
  readonly values: string;
  readonly dedup: (id: string) => string;
}

export function replicatedKeys(prefix: string, service: string, key: EntityKey): ReplicatedKeys {
  const entity = new KeyLayout(prefix, service).entity(key);
  const values = `${prefix}:${encodeSegment(service)}:${encodeSegment(key.entityType)}:{${encodeEntityId(key.entityId)}}:r`;
  return { values, dedup: entity.dedup };
}

/** KEYS and ARGV of a script call. */
export interface ScriptCall {
  readonly keys: string[];
  readonly args: string[];
}

export interface ReplicatedApplyRequest {
  readonly ops: readonly ReplicatedOp[];
  /** The sequence of the snapshot the command was decided on. */
  readonly observed: number;
  /** `ReplicatedDecision.returnCells`. */
  readonly returnCells: readonly string[];
  /** Dedup ids that must not exist yet (a hit applies nothing). */
  readonly checkDedup: readonly string[];
  /** The record to write: its id, the reply CloudEvent's id, the reply when known before the apply. */
  readonly writeDedup?: {
    readonly id: string;
    readonly replyId: string;
    readonly reply?: { value: unknown };
  };
  readonly dedupTtlMs: number;
}

export type ReplicatedApplyResult =
  | {
      readonly kind: "applied";
      readonly seq: number;
      readonly nowMs: number;
      readonly cells: Map<string, string>;
    }
  | { readonly kind: "refused"; readonly reason: string }
  | { readonly kind: "duplicate"; readonly duplicates: ReadonlyMap<string, ReplicatedDedupRecord> };

/** The call of `REPLICATED_APPLY_SCRIPT` for one command. */
export function encodeReplicatedApply(keys: ReplicatedKeys, request: ReplicatedApplyRequest): ScriptCall {
  const write = request.writeDedup;
  let head = "";
  if (write !== undefined) {
    head = `{"replyId":${JSON.stringify(write.replyId)}`;
    if (write.reply !== undefined) head += `,"reply":${JSON.stringify(write.reply.value) ?? "null"}`;
  }
  const args = [
    String(request.ops.length),
    String(request.observed),
    String(request.checkDedup.length),
    write === undefined ? "0" : "1",
    String(request.dedupTtlMs),
    head,
    write !== undefined && write.reply === undefined ? "1" : "0",
    String(request.returnCells.length),
  ];
  for (const op of request.ops) args.push(op.code, op.cell, op.a, op.b, op.c, op.entry);
  args.push(...request.returnCells);
  const dedupKeys = request.checkDedup.map(keys.dedup);
  if (write !== undefined) dedupKeys.push(keys.dedup(write.id));
  return { keys: [keys.values, ...dedupKeys], args };
}

export function decodeReplicatedApply(reply: unknown, checkDedup: readonly string[]): ReplicatedApplyResult {
  const [kind, ...rest] = reply as [string, ...unknown[]];
  if (kind === "refused") return { kind, reason: rest[0] as string };
  if (kind === "duplicate") {
    const hits = rest[0] as string[];
    const duplicates = new Map<string, ReplicatedDedupRecord>();
    for (let i = 0; i + 1 < hits.length; i += 2) {
      duplicates.set(checkDedup[Number(hits[i]) - 1]!, JSON.parse(hits[i + 1]!) as ReplicatedDedupRecord);
    }
    return { kind, duplicates };
  }
  if (kind !== "applied") throw new Error(`unexpected reply of the replicated apply script: ${String(kind)}`);
  return { kind, seq: Number(rest[0]), nowMs: Number(rest[1]), cells: cellsFromPairs(rest[2] as string[]) };
}

/** The call of `REPLICATED_LOAD_SCRIPT`. */
export function encodeReplicatedLoad(keys: ReplicatedKeys, dedupIds: readonly string[]): ScriptCall {
  return { keys: [keys.values, ...dedupIds.map(keys.dedup)], args: [] };
}

export function decodeReplicatedLoad(
  reply: unknown,
  dedupIds: readonly string[],
): { snapshot: ReplicatedSnapshot; duplicates: ReadonlyMap<string, ReplicatedDedupRecord> } {
  const [nowMs, pairs, records] = reply as [number, string[], Array<string | null>];
  const cells = cellsFromPairs(pairs);
  const duplicates = new Map<string, ReplicatedDedupRecord>();
  records.forEach((record, i) => {
    if (record !== null && record !== undefined)
      duplicates.set(dedupIds[i]!, JSON.parse(record) as ReplicatedDedupRecord);
  });
  return { snapshot: { seq: Number(cells.get(SEQ) ?? "0"), cells, nowMs: Number(nowMs) }, duplicates };
}

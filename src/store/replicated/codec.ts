import {
  cellsFromPairs,
  type ReplicatedDedupRecord,
  type ReplicatedSnapshot,
} from "../../entity/replicated/model.js";
import type { OpCode, ReplicatedOp } from "../../entity/replicated/operations.js";
import { SEQ } from "../../entity/replicated/cells.js";
import { encodeEntityId, encodeSegment } from "../redis-keys.js";
import type { EntityKey } from "../state-store.js";
import { decodeRecord, recordHead } from "./record.js";

/**
 * Redis encoding of replicated entities. An entity's values are one hash, beside its dedup
 * records, under the entity's hash tag (one Redis Cluster slot):
 *
 * ```
 * <prefix>:<service>:<entityType>:{<id>}:r    hash: the cells (src/entity/replicated/cells.ts)
 * <prefix>:<service>:<entityType>:{<id>}:rd   hash: r<dedup id> → <expiry ms, hex>|<record> (record.ts),
 *                                             t/tc/tm: the sweep of expired records
 * ```
 */
export interface ReplicatedKeys {
  readonly values: string;
  /** The dedup hash: a record per dedup id, with its expiry. */
  readonly dedup: string;
}

export function replicatedKeys(prefix: string, service: string, key: EntityKey): ReplicatedKeys {
  const base = `${prefix}:${encodeSegment(service)}:${encodeSegment(key.entityType)}:{${encodeEntityId(key.entityId)}}`;
  return { values: `${base}:r`, dedup: `${base}:rd` };
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
  /**
   * The dedup id that must not exist yet (a hit applies nothing): none or one, sent once to
   * Redis for both the check and the record.
   */
  readonly checkDedup: readonly string[];
  /** The record to write: its id (the one checked), the reply CloudEvent's id, the reply when known before the apply. */
  readonly writeDedup?: {
    readonly id: string;
    readonly replyId: string;
    readonly reply?: { value: unknown };
  };
  readonly dedupTtlMs: number;
  /** Events to publish if the command applies (absent or empty: none), written with it. */
  readonly publish?: readonly ReplicatedOutboxDraft[] | undefined;
}

/**
 * An event a command publishes, as the host knows it before the apply: the store adds the id
 * and version, from the sequence the command gets (see `replicatedMessageId`).
 */
export interface ReplicatedOutboxDraft {
  /** The full CloudEvent type, `<prefix>.<entity>.<event>`. */
  readonly type: string;
  readonly data: unknown;
  /** When the command was applied (ISO 8601). */
  readonly time: string;
  readonly traceparent?: string | undefined;
}

/** The outbox id of the `index`th (0-based) of `count` messages of a command applied at `seq`. */
export function replicatedMessageId(key: EntityKey, seq: number, index: number, count: number): string {
  return `${key.entityType}/${key.entityId}/${seq}${count > 1 ? `/${index + 1}` : ""}`;
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

/** One command's outcome in a batch: as `ReplicatedApplyResult`, or the script's error for it. */
export type ReplicatedBatchItem =
  ReplicatedApplyResult | { readonly kind: "failed"; readonly message: string };

/** What a batch returns: each command's outcome, and every cell after the batch when asked for. */
export interface ReplicatedBatchResult {
  readonly results: readonly ReplicatedBatchItem[];
  readonly all: ReplicatedSnapshot | undefined;
}

/** The call of `REPLICATED_APPLY_SCRIPT` for one command. */
export function encodeReplicatedApply(
  keys: ReplicatedKeys,
  request: ReplicatedApplyRequest,
  outbox?: ReplicatedOutbox,
): ScriptCall {
  return encodeReplicatedBatch(keys, [request], false, outbox);
}

/** Where a batch's messages go: the entity's outbox stream, and the entity they are of. */
export interface ReplicatedOutbox {
  readonly stream: string;
  readonly key: EntityKey;
}

/**
 * The call of `REPLICATED_APPLY_SCRIPT` for commands to one entity, applied in order; `withAll`
 * asks for every cell after the batch as well. The dedup TTL is the longest of theirs. The
 * outbox stream and the message arguments are sent only when some command publishes.
 */
export function encodeReplicatedBatch(
  keys: ReplicatedKeys,
  requests: readonly ReplicatedApplyRequest[],
  withAll: boolean,
  outbox?: ReplicatedOutbox,
): ScriptCall {
  const ttl = Math.max(...requests.map((r) => r.dedupTtlMs));
  const args = [String(requests.length), withAll ? "1" : "0", String(ttl)];
  const publishing = outbox !== undefined && requests.some((r) => (r.publish?.length ?? 0) > 0);
  if (publishing) {
    const { entityType, entityId } = outbox.key;
    const id = JSON.stringify(`${entityType}/${entityId}/`);
    args.push(
      `{"entityType":${JSON.stringify(entityType)},"entityId":${JSON.stringify(entityId)},"id":${id.slice(0, -1)}`,
    );
  }
  for (const request of requests) {
    const write = request.writeDedup;
    const id = dedupIdOf(request);
    const record = write === undefined ? "" : recordHead(write.replyId, write.reply);
    const head = args.length;
    args.push(
      "",
      request.observed >= Number.MAX_SAFE_INTEGER ? "" : String(request.observed),
      id,
      record,
      String(request.returnCells.length),
    );
    for (const op of request.ops) pushOp(args, op);
    args[head] = String(args.length - head - 5);
    for (const cell of request.returnCells) args.push(cell);
    if (publishing) {
      const drafts = request.publish ?? [];
      args.push(String(drafts.length));
      for (const draft of drafts) args.push(messageTail(draft));
    }
  }
  const scriptKeys = [keys.values, keys.dedup];
  if (publishing) scriptKeys.push(outbox.stream);
  return { keys: scriptKeys, args };
}

/** The arguments each operation code uses after its cell (the rest are empty). */
const OP_WIDTH = {
  inc: 1,
  flag: 0,
  lww: 2,
  fww: 1,
  sadd: 0,
  srem: 0,
  vote: 3,
  unvote: 0,
  mrem: 2,
  acq: 2,
  rel: 1,
  fence: 1,
} as const satisfies Record<OpCode, number>;

/** An operation as the script reads it (lua-ops.ts): code (`*`: an entry follows), cell, its arguments, entry. */
function pushOp(args: string[], op: ReplicatedOp): void {
  const width = OP_WIDTH[op.code];
  args.push(op.entry === "" ? op.code : `${op.code}*`, op.cell);
  if (width > 0) args.push(op.a);
  if (width > 1) args.push(op.b);
  if (width > 2) args.push(op.c);
  if (op.entry !== "") args.push(op.entry);
}

/** The one dedup id a command checks, and records when it writes a record ("" for none). */
function dedupIdOf(request: ReplicatedApplyRequest): string {
  const { checkDedup, writeDedup } = request;
  const id = checkDedup[0] ?? "";
  if (checkDedup.length > 1 || (writeDedup !== undefined && writeDedup.id !== id)) {
    throw new Error("knstate replicated: a command checks at most one dedup id, and records only that one");
  }
  return id;
}

/**
 * The JSON of the `index`th (0-based) of `count` messages of a command applied at `seq`: the
 * same text the apply script writes for it.
 */
export function messageJson(
  key: EntityKey,
  seq: number,
  index: number,
  count: number,
  draft: ReplicatedOutboxDraft,
): string {
  const id = JSON.stringify(replicatedMessageId(key, seq, index, count));
  return `{"entityType":${JSON.stringify(key.entityType)},"entityId":${JSON.stringify(key.entityId)},"id":${id},"version":${seq}${messageTail(draft)}`;
}

/** A message's JSON after its id and version (an `OutboxMessage`, see src/store/state-store.ts). */
function messageTail(draft: ReplicatedOutboxDraft): string {
  const data = JSON.stringify(draft.data) as string | undefined;
  const trace = draft.traceparent === undefined ? "" : `,"traceparent":${JSON.stringify(draft.traceparent)}`;
  return `,"type":${JSON.stringify(draft.type)}${data === undefined ? "" : `,"data":${data}`},"time":${JSON.stringify(draft.time)}${trace}}`;
}

export function decodeReplicatedApply(reply: unknown, checkDedup: readonly string[]): ReplicatedApplyResult {
  const result = decodeReplicatedBatch(reply, [checkDedup]).results[0]!;
  if (result.kind === "failed") throw new Error(`knstate replicated: ${result.message}`);
  return result;
}

/** Decodes a batch's reply (flat, see scripts.ts); `checkDedup` has each command's dedup ids, in order. */
export function decodeReplicatedBatch(
  reply: unknown,
  checkDedup: ReadonlyArray<readonly string[]>,
): ReplicatedBatchResult {
  const [nowMsRaw, flat, all] = reply as [number, Array<string | number>, string[] | null];
  const nowMs = Number(nowMsRaw);
  const results: ReplicatedBatchItem[] = [];
  let p = 0;
  for (let i = 0; i < checkDedup.length; i++) {
    const kind = flat[p++];
    if (kind === 1) {
      const seq = Number(flat[p++]);
      const n = Number(flat[p++]);
      const cells = new Map<string, string>();
      for (const end = p + n; p < end; p += 2) cells.set(flat[p] as string, flat[p + 1] as string);
      results.push({ kind: "applied", seq, nowMs, cells });
    } else if (kind === 2) {
      results.push({ kind: "refused", reason: flat[p++] as string });
    } else if (kind === 3) {
      const record = decodeRecord(flat[p++] as string);
      results.push({ kind: "duplicate", duplicates: new Map([[checkDedup[i]![0]!, record]]) });
    } else if (kind === 4) {
      results.push({ kind: "failed", message: flat[p++] as string });
    } else {
      throw new Error(`unexpected reply of the replicated apply script: ${String(kind)}`);
    }
  }
  if (all === null || all === undefined) return { results, all: undefined };
  const cells = cellsFromPairs(all);
  return { results, all: { seq: Number(cells.get(SEQ) ?? "0"), cells, nowMs } };
}

/** The call of `REPLICATED_LOAD_SCRIPT`. */
export function encodeReplicatedLoad(keys: ReplicatedKeys, dedupIds: readonly string[]): ScriptCall {
  return { keys: [keys.values, keys.dedup], args: [...dedupIds] };
}

export function decodeReplicatedLoad(
  reply: unknown,
  dedupIds: readonly string[],
): { snapshot: ReplicatedSnapshot; duplicates: ReadonlyMap<string, ReplicatedDedupRecord> } {
  const [nowMs, pairs, records] = reply as [number, string[], Array<string | null>];
  const cells = cellsFromPairs(pairs);
  const duplicates = new Map<string, ReplicatedDedupRecord>();
  records.forEach((record, i) => {
    if (record !== null && record !== undefined) duplicates.set(dedupIds[i]!, decodeRecord(record));
  });
  return { snapshot: { seq: Number(cells.get(SEQ) ?? "0"), cells, nowMs: Number(nowMs) }, duplicates };
}

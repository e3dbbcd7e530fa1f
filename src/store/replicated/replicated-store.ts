import { applyOps } from "../../entity/replicated/apply.js";
import { SEQ, type Cells } from "../../entity/replicated/cells.js";
import {
  matchesReturn,
  type ReplicatedDedupRecord,
  type ReplicatedSnapshot,
} from "../../entity/replicated/model.js";
import type { EntityKey, OutboxMessage } from "../state-store.js";
import {
  decodeReplicatedApply,
  decodeReplicatedBatch,
  decodeReplicatedLoad,
  encodeReplicatedApply,
  encodeReplicatedBatch,
  encodeReplicatedLoad,
  replicatedKeys,
  replicatedMessageId,
  type ReplicatedApplyRequest,
  type ReplicatedApplyResult,
  type ReplicatedBatchResult,
} from "./codec.js";
import {
  decodePredicted,
  encodePredicted,
  REPLICATED_PREDICTED_SCRIPT,
  type PredictedBatch,
  type PredictedResult,
} from "./predicted.js";
import { REPLICATED_APPLY_SCRIPT, REPLICATED_LOAD_SCRIPT } from "./scripts.js";

export interface ReplicatedLoaded {
  readonly snapshot: ReplicatedSnapshot;
  readonly duplicates: ReadonlyMap<string, ReplicatedDedupRecord>;
}

/**
 * What a state store offers replicated entities: load the merged cells (with dedup hits), and
 * apply one command's operations with its dedup record, atomically, without a version check.
 */
export interface ReplicatedStore {
  loadReplicated(key: EntityKey, dedupIds: readonly string[]): Promise<ReplicatedLoaded>;
  applyReplicated(key: EntityKey, request: ReplicatedApplyRequest): Promise<ReplicatedApplyResult>;
  /**
   * Applies commands to one entity in one atomic step, in order, each as `applyReplicated`
   * would (its own sequence, dedup check and record, returned cells); `withAll` also returns
   * every cell after the batch.
   */
  applyReplicatedBatch(
    key: EntityKey,
    requests: readonly ReplicatedApplyRequest[],
    withAll: boolean,
  ): Promise<ReplicatedBatchResult>;
  /**
   * Writes a batch whose outcome the host computed from the entity's cells at
   * `batch.expectedSeq`, if the entity is still there and no dedup id of it has a record;
   * else writes nothing (stale). Absent where the host's prediction would save nothing (memory).
   */
  applyPredicted?(key: EntityKey, batch: PredictedBatch): Promise<PredictedResult>;
}

/** Runs a script: its source (to EVAL, or its SHA-1 for EVALSHA), KEYS and ARGV, for `key`. */
export type RunScript = (lua: string, keys: string[], args: string[], key: EntityKey) => Promise<unknown>;

/**
 * Replicated entities on Redis, through the store's own script runner. `outboxStream` names an
 * entity's outbox stream from its key and the key of its values (for its slot on a cluster).
 */
export function redisReplicated(
  run: RunScript,
  keyPrefix: string,
  service: string,
  outboxStream?: (key: EntityKey, valuesKey: string) => string,
): ReplicatedStore {
  const outboxOf = (key: EntityKey, values: string) =>
    outboxStream === undefined ? undefined : { stream: outboxStream(key, values), key };
  return {
    async loadReplicated(key, dedupIds) {
      const call = encodeReplicatedLoad(replicatedKeys(keyPrefix, service, key), dedupIds);
      return decodeReplicatedLoad(await run(REPLICATED_LOAD_SCRIPT, call.keys, call.args, key), dedupIds);
    },
    async applyReplicated(key, request) {
      const keys = replicatedKeys(keyPrefix, service, key);
      const call = encodeReplicatedApply(keys, request, outboxOf(key, keys.values));
      return decodeReplicatedApply(
        await run(REPLICATED_APPLY_SCRIPT, call.keys, call.args, key),
        request.checkDedup,
      );
    },
    async applyReplicatedBatch(key, requests, withAll) {
      const keys = replicatedKeys(keyPrefix, service, key);
      const call = encodeReplicatedBatch(keys, requests, withAll, outboxOf(key, keys.values));
      return decodeReplicatedBatch(
        await run(REPLICATED_APPLY_SCRIPT, call.keys, call.args, key),
        requests.map((r) => r.checkDedup),
      );
    },
    async applyPredicted(key, batch) {
      const keys = replicatedKeys(keyPrefix, service, key);
      const call = encodePredicted(keys, batch, outboxOf(key, keys.values)?.stream);
      return decodePredicted(await run(REPLICATED_PREDICTED_SCRIPT, call.keys, call.args, key));
    },
  };
}

/**
 * Replicated entities in memory, with the same rules (`applyOps`). Dedup records expire after
 * `dedupTtlMs` of `now()`; `now` defaults to the wall clock (ms). The messages an applied
 * command publishes go to `publish`, in the same step.
 */
export function memoryReplicated(
  now: () => number = Date.now,
  publish?: (key: EntityKey, messages: readonly OutboxMessage[]) => void,
): ReplicatedStore {
  const entities = new Map<string, Cells>();
  const dedup = new Map<string, { record: ReplicatedDedupRecord; expiresAt: number }>();
  const id = (key: EntityKey) => JSON.stringify([key.entityType, key.entityId]);
  const hits = (key: EntityKey, ids: readonly string[]) => {
    const found = new Map<string, ReplicatedDedupRecord>();
    for (const dedupId of ids) {
      const entry = dedup.get(JSON.stringify([id(key), dedupId]));
      if (entry !== undefined && entry.expiresAt > now()) found.set(dedupId, entry.record);
    }
    return found;
  };
  const store: ReplicatedStore = {
    loadReplicated(key, dedupIds) {
      const cells = entities.get(id(key)) ?? new Map<string, string>();
      const snapshot = { seq: Number(cells.get(SEQ) ?? "0"), cells, nowMs: now() };
      return Promise.resolve({ snapshot, duplicates: hits(key, dedupIds) });
    },
    applyReplicated(key, request) {
      const duplicates = hits(key, request.checkDedup);
      if (duplicates.size > 0) return Promise.resolve({ kind: "duplicate", duplicates });
      const nowMs = now();
      const before = entities.get(id(key)) ?? new Map<string, string>();
      const result = applyOps(before, request.ops, { nowUs: nowMs * 1000, observed: request.observed });
      if (result.kind === "refused") return Promise.resolve(result);
      entities.set(id(key), result.cells);
      const drafts = request.publish ?? [];
      if (publish !== undefined && drafts.length > 0 && request.ops.length > 0) {
        const messages = drafts.map((draft, i): OutboxMessage => ({
          id: replicatedMessageId(key, result.seq, i, drafts.length),
          entityType: key.entityType,
          entityId: key.entityId,
          version: result.seq,
          ...draft,
        }));
        publish(key, messages);
      }
      const cells = new Map([...result.cells].filter(([name]) => matchesReturn(name, request.returnCells)));
      const write = request.writeDedup;
      if (write !== undefined) {
        const record: ReplicatedDedupRecord =
          write.reply === undefined
            ? { replyId: write.replyId, seq: result.seq, cells: [...cells].flat() }
            : { replyId: write.replyId, seq: result.seq, reply: write.reply.value };
        dedup.set(JSON.stringify([id(key), write.id]), { record, expiresAt: nowMs + request.dedupTtlMs });
      }
      return Promise.resolve({ kind: "applied", seq: result.seq, nowMs, cells });
    },
    async applyReplicatedBatch(key, requests, withAll) {
      const results: ReplicatedApplyResult[] = [];
      for (const request of requests) results.push(await store.applyReplicated(key, request));
      if (!withAll) return { results, all: undefined };
      return { results, all: (await store.loadReplicated(key, [])).snapshot };
    },
  };
  return store;
}

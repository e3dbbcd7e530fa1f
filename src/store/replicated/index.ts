/** Redis encoding of replicated entities: keys, scripts, and the calls the store makes. */
export { REPLICATED_APPLY_SCRIPT, REPLICATED_LOAD_SCRIPT } from "./scripts.js";
export {
  decodeReplicatedApply,
  decodeReplicatedBatch,
  decodeReplicatedLoad,
  encodeReplicatedApply,
  encodeReplicatedBatch,
  encodeReplicatedLoad,
  replicatedKeys,
  replicatedMessageId,
} from "./codec.js";
export type {
  ReplicatedApplyRequest,
  ReplicatedApplyResult,
  ReplicatedBatchItem,
  ReplicatedBatchResult,
  ReplicatedKeys,
  ReplicatedOutbox,
  ReplicatedOutboxDraft,
  ScriptCall,
} from "./codec.js";
export { memoryReplicated, redisReplicated } from "./replicated-store.js";
export type { ReplicatedLoaded, ReplicatedStore, RunScript } from "./replicated-store.js";

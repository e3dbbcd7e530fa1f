import { erasedMessage } from "./erase-scope.js";
import type { MemoryOutbox } from "./memory-outbox.js";
import type { MemoryTimers } from "./memory-timers.js";
import { outboxShard } from "./outbox-keys.js";
import type { EntityKey } from "./state-store.js";

/** What the memory store keeps about an entity beside its row and dedup records. */
export interface MemoryErasable {
  readonly timers: MemoryTimers;
  readonly outbox: MemoryOutbox;
  /** Per type, the entity ids in creation order. */
  readonly index: Map<string, string[]>;
}

/**
 * The rest of an erasure, in the same step as the tombstone (the memory store is one process):
 * the entity's pending timers and their due entries, its outbox messages of the erased life
 * (waiting, handed to the relay, or dead-lettered) and its entry in the entity index.
 */
export function eraseOutside(key: EntityKey, tombstone: number, stores: MemoryErasable): void {
  stores.timers.erase(key);
  stores.outbox.remove(outboxShard(key), erasedMessage(key, tombstone));
  const ids = stores.index.get(key.entityType);
  const at = ids?.indexOf(key.entityId) ?? -1;
  if (ids !== undefined && at >= 0) ids.splice(at, 1);
}

import { LRUCache } from "lru-cache";

/** A cached entity: the state at `version`, as last loaded or appended by this process. */
export interface CachedEntity {
  readonly state: unknown;
  readonly version: number;
  /**
   * The state's size in characters of JSON, as last measured (the stored snapshot and events
   * read by a load, or the state serialized with a snapshot), plus an estimate for each event
   * applied since. Never measured on a cache hit.
   */
  readonly jsonLength: number;
  /** The stored snapshot was not used or was migrated: the next append writes a fresh one. */
  readonly staleSnapshot?: true;
}

/**
 * Heap bytes per character of a state's JSON, measured with Node 20 on states parsed from JSON
 * (`node --expose-gc`, heapUsed over 2,000 states): 1.0 for long strings, 3.0 for arrays of
 * small records, 3.5 for a counter, 5.4 for a map of 200 short keys. 3 is the middle.
 */
export const HEAP_BYTES_PER_JSON_CHAR = 3;
/** Heap bytes of an entry besides its state: the key, the entry object, the LRU's slots. */
export const ENTRY_OVERHEAD_BYTES = 256;

/** The bytes an entry is counted for against the cache's budget. */
export function entryBytes(entry: CachedEntity): number {
  return ENTRY_OVERHEAD_BYTES + HEAP_BYTES_PER_JSON_CHAR * entry.jsonLength;
}

export interface EntityCacheLimits {
  /** Most entities kept; 0 keeps none. */
  readonly maxEntities: number;
  /** Most bytes kept, as counted by `entryBytes`; an entity larger than this is not cached. */
  readonly maxBytes: number;
}

/** A least-recently-used map of entity states, bounded by count and by estimated bytes. */
export class EntityCache {
  readonly #entries: LRUCache<string, CachedEntity> | undefined;

  constructor(limits: EntityCacheLimits) {
    this.#entries =
      limits.maxEntities > 0 && limits.maxBytes > 0
        ? new LRUCache<string, CachedEntity>({
            max: limits.maxEntities,
            maxSize: limits.maxBytes,
            sizeCalculation: entryBytes,
          })
        : undefined;
  }

  get size(): number {
    return this.#entries?.size ?? 0;
  }

  /** Bytes counted for the entries held. */
  get bytes(): number {
    return this.#entries?.calculatedSize ?? 0;
  }

  get(key: string): CachedEntity | undefined {
    return this.#entries?.get(key);
  }

  /** Stores `entry` (dropping the least recently used past the limits); drops `key` if it does not fit. */
  set(key: string, entry: CachedEntity): void {
    this.#entries?.set(key, entry);
  }

  /**
   * Stores `entry` unless a newer version is cached: a read that loaded concurrently with an
   * append of this process must not put back an older state.
   */
  offer(key: string, entry: CachedEntity): void {
    const held = this.#entries?.peek(key);
    if (held === undefined || held.version <= entry.version) this.set(key, entry);
  }

  delete(key: string): void {
    this.#entries?.delete(key);
  }
}

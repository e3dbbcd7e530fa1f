/** A cached entity: the state at `version`, as last loaded or appended by this process. */
export interface CachedEntity {
  readonly state: unknown;
  readonly version: number;
}

/**
 * A bounded least-recently-used map of entity states. A Map keeps insertion order, so
 * re-inserting on every hit makes the first key the least recently used.
 */
export class EntityCache {
  readonly #entries = new Map<string, CachedEntity>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): CachedEntity | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: CachedEntity): void {
    if (this.#capacity <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}

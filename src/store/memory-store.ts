import type { DomainEvent } from "../entity/model.js";
import type {
  AppendRequest,
  AppendResult,
  CheckResult,
  DedupRecord,
  EntityKey,
  LoadedEntity,
  Snapshot,
  StateStore,
} from "./state-store.js";

interface Row {
  version: number;
  /** Serialized as the Redis store does, so handlers see the same JSON round trip. */
  events: string[];
  firstLogged: number;
  snapshot: string | undefined;
  snapshotVersion: number;
}

/**
 * The embedded default store: one process, no persistence, the same optimistic-concurrency
 * and dedup semantics as the Redis store (the store-contract suite runs against both).
 */
export class MemoryStore implements StateStore {
  readonly name = "memory";
  readonly #rows = new Map<string, Row>();
  readonly #dedup = new Map<string, { record: string; expiresAt: number }>();
  readonly #now: () => number;
  #nextSweep = 0;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  load(key: EntityKey, dedupIds: readonly string[]): Promise<LoadedEntity> {
    const row = this.#rows.get(rowKey(key));
    const duplicates = this.#findDuplicates(key, dedupIds);
    if (!row) return Promise.resolve({ version: 0, snapshot: undefined, events: [], duplicates });
    const snapshot: Snapshot | undefined =
      row.snapshot === undefined
        ? undefined
        : { version: row.snapshotVersion, state: JSON.parse(row.snapshot) };
    const from = Math.max(row.snapshotVersion, row.firstLogged - 1);
    const stored = row.events.slice(from - (row.firstLogged - 1));
    const events = stored.map((e) => JSON.parse(e) as DomainEvent);
    const size = {
      snapshot: row.snapshot?.length ?? 0,
      events: stored.reduce((sum, e) => sum + e.length, 0),
    };
    return Promise.resolve({
      version: row.version,
      snapshot,
      events,
      duplicates,
      ...(size.snapshot + size.events > 0 ? { stored: size } : {}),
    });
  }

  check(key: EntityKey, dedupIds: readonly string[]): Promise<CheckResult> {
    return Promise.resolve({
      version: this.#rows.get(rowKey(key))?.version ?? 0,
      duplicates: this.#findDuplicates(key, dedupIds),
    });
  }

  append(request: AppendRequest): Promise<AppendResult> {
    const { key } = request;
    const duplicates = this.#findDuplicates(key, request.checkDedup);
    if (duplicates.size > 0) return Promise.resolve({ kind: "duplicate", duplicates });
    const id = rowKey(key);
    const row = this.#rows.get(id);
    const current = row?.version ?? 0;
    if (current !== request.expectedVersion) return Promise.resolve({ kind: "conflict", version: current });
    if (request.events.length === 0) return Promise.resolve({ kind: "ok", version: current });
    // Serialize everything before the first write, so a bad value cannot leave a partial append.
    const events = request.logEvents
      ? request.events.map((e) => JSON.stringify({ type: e.type, data: e.data }))
      : [];
    const snapshot = request.snapshot ? JSON.stringify(request.snapshot.state) : undefined;
    const dedup = request.writeDedup.map(([d, record]) => [d, JSON.stringify(record)] as const);
    const next: Row = row ?? {
      version: 0,
      events: [],
      firstLogged: 1,
      snapshot: undefined,
      snapshotVersion: 0,
    };
    if (!request.logEvents) next.firstLogged = current + request.events.length + 1;
    next.events.push(...events);
    next.version = current + request.events.length;
    if (request.snapshot && snapshot !== undefined) {
      next.snapshot = snapshot;
      next.snapshotVersion = request.snapshot.version;
    }
    this.#rows.set(id, next);
    const now = this.#now();
    const expiresAt = now + request.dedupTtlMs;
    for (const [d, record] of dedup) this.#dedup.set(dedupKey(key, d), { record, expiresAt });
    if (now >= this.#nextSweep) this.#sweep(now);
    return Promise.resolve({ kind: "ok", version: next.version });
  }

  readEvents(key: EntityKey, fromVersion: number, toVersion = Number.MAX_SAFE_INTEGER) {
    const row = this.#rows.get(rowKey(key));
    const out: Array<DomainEvent & { version: number }> = [];
    if (!row) return Promise.resolve(out);
    row.events.forEach((raw, i) => {
      const version = row.firstLogged + i;
      if (version >= fromVersion && version <= toVersion)
        out.push({ ...(JSON.parse(raw) as DomainEvent), version });
    });
    return Promise.resolve(out);
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Drops expired dedup records at most once a minute, so memory stays bounded by the TTL's traffic. */
  #sweep(now: number): void {
    this.#nextSweep = now + 60_000;
    for (const [k, hit] of this.#dedup) if (hit.expiresAt <= now) this.#dedup.delete(k);
  }

  #findDuplicates(key: EntityKey, ids: readonly string[]): Map<string, DedupRecord> {
    const found = new Map<string, DedupRecord>();
    if (ids.length === 0) return found;
    const now = this.#now();
    for (const id of ids) {
      const k = dedupKey(key, id);
      const hit = this.#dedup.get(k);
      if (!hit) continue;
      if (hit.expiresAt <= now) this.#dedup.delete(k);
      else found.set(id, JSON.parse(hit.record) as DedupRecord);
    }
    return found;
  }
}

function rowKey(key: EntityKey): string {
  return `${key.entityType}\u0000${key.entityId}`;
}
function dedupKey(key: EntityKey, id: string): string {
  return `${rowKey(key)}\u0000${id}`;
}

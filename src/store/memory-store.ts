import type { DomainEvent } from "../entity/model.js";
import {
  decodeAppend,
  decodeEvent,
  decodeRecord,
  dedupField,
  encodeAppend,
  parseJson,
} from "./append-encoding.js";
import { MemoryOutbox } from "./memory-outbox.js";
import { outboxShard } from "./outbox-keys.js";
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
  /** Encoded as the Redis store stores them (append-encoding.ts), so handlers see the same round trip. */
  events: string[];
  firstLogged: number;
  snapshot: string | undefined;
  snapshotVersion: number;
}

/**
 * The embedded default store: one process, no persistence, the same optimistic-concurrency
 * and dedup semantics as the Redis store (the store-contract suite runs against both). An append
 * runs the plan decoded from the Redis script's own arguments, so both stores commit the same.
 */
export class MemoryStore implements StateStore {
  readonly name = "memory";
  readonly #rows = new Map<string, Row>();
  readonly #dedup = new Map<string, { record: string; expiresAt: number }>();
  readonly #now: () => number;
  #nextSweep = 0;
  /** Committed messages to publish (see src/outbox/). */
  readonly outbox = new MemoryOutbox();

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
        : { version: row.snapshotVersion, state: parseJson(row.snapshot) };
    const from = Math.max(row.snapshotVersion, row.firstLogged - 1);
    const stored = row.events.slice(from - (row.firstLogged - 1));
    const events: DomainEvent[] = stored.map(decodeEvent);
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
    // Encoding serializes everything before the first write, so a bad value cannot leave a partial append.
    const plan = decodeAppend(encodeAppend(request));
    const duplicates = this.#findDuplicates(key, request.checkDedup, plan.check);
    if (duplicates.size > 0) return Promise.resolve({ kind: "duplicate", duplicates });
    const id = rowKey(key);
    const row = this.#rows.get(id);
    const current = row?.version ?? 0;
    if (current !== plan.expectedVersion) return Promise.resolve({ kind: "conflict", version: current });
    if (plan.events.length === 0) return Promise.resolve({ kind: "ok", version: current });
    const next: Row = row ?? {
      version: 0,
      events: [],
      firstLogged: 1,
      snapshot: undefined,
      snapshotVersion: 0,
    };
    if (plan.logEvents) next.events.push(...plan.events);
    else next.firstLogged = current + plan.events.length + 1;
    next.version = current + plan.events.length;
    if (plan.snapshot) {
      next.snapshot = plan.snapshot.state;
      next.snapshotVersion = plan.snapshot.version;
    }
    this.#rows.set(id, next);
    const now = this.#now();
    const expiresAt = now + plan.dedupTtlMs;
    for (const [field, record] of plan.write) this.#dedup.set(dedupKey(key, field), { record, expiresAt });
    // The outbox in the same step as the commit, as the append script writes it.
    if (plan.outbox.length > 0) for (const m of plan.outbox) this.outbox.add(outboxShard(key), m);
    if (now >= this.#nextSweep) this.#sweep(now);
    return Promise.resolve({ kind: "ok", version: next.version });
  }

  readEvents(key: EntityKey, fromVersion: number, toVersion = Number.MAX_SAFE_INTEGER) {
    const row = this.#rows.get(rowKey(key));
    const out: Array<DomainEvent & { version: number }> = [];
    if (!row) return Promise.resolve(out);
    row.events.forEach((raw, i) => {
      const version = row.firstLogged + i;
      if (version >= fromVersion && version <= toVersion) out.push({ ...decodeEvent(raw), version });
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

  #findDuplicates(
    key: EntityKey,
    ids: readonly string[],
    fields: readonly string[] = ids.map(dedupField),
  ): Map<string, DedupRecord> {
    const found = new Map<string, DedupRecord>();
    if (ids.length === 0) return found;
    const now = this.#now();
    for (const [i, id] of ids.entries()) {
      const k = dedupKey(key, fields[i]!);
      const hit = this.#dedup.get(k);
      if (!hit) continue;
      if (hit.expiresAt <= now) this.#dedup.delete(k);
      else found.set(id, decodeRecord(hit.record, false));
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

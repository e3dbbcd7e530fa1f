import type { DomainEvent } from "../entity/model.js";
import {
  decodeAppend,
  decodeEvent,
  decodeRecord,
  decodeSnapshot,
  dedupField,
  encodeAppend,
} from "./append-encoding.js";
import {
  decodeCursor,
  encodeCursor,
  type DedupEntry,
  type EntityPage,
  type ListEntitiesOptions,
  type LoggedEvent,
  type StoreIntrospection,
} from "./introspection.js";
import { decodeMeta } from "./event-meta.js";
import { MemoryOutbox } from "./memory-outbox.js";
import { memoryOutboxAdmin } from "./outbox-admin.js";
import { outboxShard } from "./outbox-keys.js";
import type {
  AppendRequest,
  AppendResult,
  CheckResult,
  DedupRecord,
  DeleteResult,
  EntityKey,
  LoadedEntity,
  Snapshot,
  StateStore,
} from "./state-store.js";
import { eraseOutside } from "./memory-erase.js";
import { MemoryTimers } from "./memory-timers.js";
import { KEEP_ALL, trimThrough, type Retention } from "./retention.js";
import { memoryReplicated, type ReplicatedStore } from "./replicated/replicated-store.js";

interface Row {
  version: number;
  /** Encoded as the Redis store stores them (append-encoding.ts), so handlers see the same round trip. */
  events: string[];
  firstLogged: number;
  snapshot: string | undefined;
  snapshotVersion: number;
  /** The last version whose event retention deleted (0: none). */
  trimmed?: number;
  /** An erasure's tombstone whose next append enters the entity in the index again. */
  reindex?: true;
}

/**
 * The embedded default store: one process, no persistence, the same optimistic-concurrency
 * and dedup semantics as the Redis store (the store-contract suite runs against both). An append
 * runs the plan decoded from the Redis script's own arguments, so both stores commit the same.
 */
export class MemoryStore implements StateStore, StoreIntrospection {
  readonly name = "memory";
  readonly #rows = new Map<string, Row>();
  /** Dedup records per entity (`rowKey`), then by field: erasing one entity never reaches another. */
  readonly #dedup = new Map<string, Map<string, DedupHit>>();
  readonly #now: () => number;
  #nextSweep = 0;
  /** Durable timers, in process (see memory-timers.ts). */
  readonly timers = new MemoryTimers();
  /** Committed messages to publish (see src/outbox/). */
  readonly outbox = new MemoryOutbox();
  /** The outbox as the admin API shows it. */
  readonly outboxAdmin = memoryOutboxAdmin(this.outbox);

  /** Replicated entities, with the same rules as the Redis script. */
  readonly replicated: ReplicatedStore;
  /** Per type, the entity ids in creation order (the entity index). */
  readonly #index = new Map<string, string[]>();
  readonly #indexed: boolean;

  readonly #retention: Retention;

  constructor(options: { now?: () => number; entityIndex?: boolean; retention?: Retention } = {}) {
    this.#now = options.now ?? Date.now;
    this.#retention = options.retention ?? KEEP_ALL;
    this.replicated = memoryReplicated(this.#now, (key, messages) => {
      for (const m of messages) this.outbox.add(outboxShard(key), JSON.stringify(m));
    });
    this.#indexed = options.entityIndex ?? true;
  }

  load(key: EntityKey, dedupIds: readonly string[]): Promise<LoadedEntity> {
    const row = this.#rows.get(rowKey(key));
    const duplicates = this.#findDuplicates(key, dedupIds);
    if (!row) return Promise.resolve({ version: 0, snapshot: undefined, events: [], duplicates });
    const snapshot: Snapshot | undefined =
      row.snapshot === undefined ? undefined : decodeSnapshot(row.snapshot, row.snapshotVersion);
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
    const id = rowKey(key);
    const row = this.#rows.get(id);
    const index = this.#indexed && (request.expectedVersion === 0 || row?.reindex === true);
    // Encoding serializes everything before the first write, so a bad value cannot leave a partial append.
    const plan = decodeAppend(encodeAppend(request, undefined, index));
    const duplicates = this.#findDuplicates(key, request.checkDedup, plan.check);
    if (duplicates.size > 0) return Promise.resolve({ kind: "duplicate", duplicates });
    const current = row?.version ?? 0;
    if (current !== plan.expectedVersion) return Promise.resolve({ kind: "conflict", version: current });
    if (plan.events.length === 0 && plan.timers.length === 0) {
      return Promise.resolve({ kind: "ok", version: current });
    }
    const next: Row = row ?? emptyRow(0);
    if (plan.logEvents) next.events.push(...plan.events);
    else next.firstLogged = current + plan.events.length + 1;
    next.version = current + plan.events.length;
    if (plan.snapshot) {
      next.snapshot = plan.snapshot.state;
      next.snapshotVersion = plan.snapshot.version;
      if (plan.logEvents) trimRow(next, trimThrough(next.snapshotVersion, this.#retention(key.entityType)));
    }
    delete next.reindex;
    this.#rows.set(id, next);
    if (plan.index !== undefined) {
      const ids = this.#index.get(key.entityType) ?? [];
      ids.push(key.entityId);
      this.#index.set(key.entityType, ids);
    }
    const now = this.#now();
    const expiresAt = now + plan.dedupTtlMs;
    if (plan.write.length > 0) {
      const records = this.#dedup.get(id) ?? new Map<string, DedupHit>();
      for (const [field, record] of plan.write) records.set(field, { record, expiresAt });
      this.#dedup.set(id, records);
    }
    this.timers.apply(key, plan.timers);
    // The outbox in the same step as the commit, as the append script writes it.
    if (plan.outbox.length > 0) for (const m of plan.outbox) this.outbox.add(outboxShard(key), m);
    if (now >= this.#nextSweep) this.#sweep(now);
    return Promise.resolve({ kind: "ok", version: next.version });
  }

  readEvents(key: EntityKey, fromVersion: number, toVersion = Number.MAX_SAFE_INTEGER) {
    return this.readEventLog(key, fromVersion, toVersion, false);
  }

  readEventLog(key: EntityKey, fromVersion: number, toVersion: number, withMeta = true) {
    const row = this.#rows.get(rowKey(key));
    const out: LoggedEvent[] = [];
    if (!row) return Promise.resolve(out);
    row.events.forEach((raw, i) => {
      const version = row.firstLogged + i;
      if (version < fromVersion || version > toVersion) return;
      const event = { ...decodeEvent(raw), version };
      out.push(withMeta ? { ...event, meta: decodeMeta(raw) } : event);
    });
    return Promise.resolve(out);
  }

  /**
   * Erases the entity as the Redis store does: its row becomes a tombstone, its dedup records,
   * pending timers, index entry and outbox messages not yet acknowledged by the relay go (see
   * memory-erase.ts and docs/security.md).
   */
  delete(key: EntityKey): Promise<DeleteResult> {
    const id = rowKey(key);
    const row = this.#rows.get(id);
    const hadRecords = this.#dedup.delete(id);
    if (row === undefined && !hadRecords) return Promise.resolve({ erased: false, version: 0 });
    const version = (row?.version ?? 0) + 1;
    this.#rows.set(id, { ...emptyRow(version), ...(this.#indexed ? { reindex: true as const } : {}) });
    eraseOutside(key, version, { timers: this.timers, outbox: this.outbox, index: this.#index });
    return Promise.resolve({ erased: true, version });
  }

  listEntities(entityType: string, options: ListEntitiesOptions): Promise<EntityPage> {
    const all = this.#indexed
      ? (this.#index.get(entityType) ?? [])
      : [...this.#rows.keys()]
          .filter((k) => k.startsWith(`${entityType}\u0000`))
          .map((k) => k.slice(entityType.length + 1));
    const ids: string[] = [];
    let i = options.cursor === undefined ? all.length - 1 : decodeCursor(options.cursor).score - 1;
    for (; i >= 0 && ids.length < options.limit; i--)
      if (all[i]!.startsWith(options.prefix)) ids.push(all[i]!);
    return Promise.resolve({ ids, cursor: i >= 0 ? encodeCursor(i + 1, ids[ids.length - 1] ?? "") : null });
  }

  countEntities(entityType: string): Promise<number | undefined> {
    return Promise.resolve(this.#indexed ? (this.#index.get(entityType)?.length ?? 0) : undefined);
  }

  listDedup(key: EntityKey): Promise<DedupEntry[]> {
    const now = this.#now();
    const out: DedupEntry[] = [];
    for (const [field, hit] of this.#dedup.get(rowKey(key)) ?? []) {
      if (hit.expiresAt <= now) continue;
      out.push({
        id: field.startsWith("r") ? field.slice(1) : field,
        expiresAt: hit.expiresAt,
        record: decodeRecord(hit.record, false),
      });
    }
    return Promise.resolve(out);
  }

  writeSnapshot(key: EntityKey, snapshot: Snapshot): Promise<boolean> {
    const row = this.#rows.get(rowKey(key));
    if (!row || row.version !== snapshot.version) return Promise.resolve(false);
    row.snapshot = JSON.stringify(snapshot.state);
    row.snapshotVersion = snapshot.version;
    return Promise.resolve(true);
  }

  trimmedThrough(key: EntityKey): Promise<number> {
    return Promise.resolve(this.#rows.get(rowKey(key))?.trimmed ?? 0);
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
    for (const [id, records] of this.#dedup) {
      for (const [field, hit] of records) if (hit.expiresAt <= now) records.delete(field);
      if (records.size === 0) this.#dedup.delete(id);
    }
  }

  #findDuplicates(
    key: EntityKey,
    ids: readonly string[],
    fields: readonly string[] = ids.map(dedupField),
  ): Map<string, DedupRecord> {
    const found = new Map<string, DedupRecord>();
    if (ids.length === 0) return found;
    const records = this.#dedup.get(rowKey(key));
    if (records === undefined) return found;
    const now = this.#now();
    for (const [i, id] of ids.entries()) {
      const hit = records.get(fields[i]!);
      if (!hit) continue;
      if (hit.expiresAt <= now) records.delete(fields[i]!);
      else found.set(id, decodeRecord(hit.record, false));
    }
    return found;
  }
}

/** A row at `version` with no event nor snapshot: a new entity (0), or an erasure's tombstone. */
function emptyRow(version: number): Row {
  return { version, events: [], firstLogged: version + 1, snapshot: undefined, snapshotVersion: 0 };
}

/** Deletes the events of `row` up to version `upto`, as the Redis store's trim script does. */
function trimRow(row: Row, upto: number): void {
  if (upto <= (row.trimmed ?? 0) || upto < row.firstLogged) return;
  row.events.splice(0, upto - row.firstLogged + 1);
  row.firstLogged = upto + 1;
  row.trimmed = upto;
}

interface DedupHit {
  readonly record: string;
  readonly expiresAt: number;
}

/** An entity's row: entity names hold no NUL, so the type ends at the first one. */
function rowKey(key: EntityKey): string {
  return `${key.entityType}\u0000${key.entityId}`;
}

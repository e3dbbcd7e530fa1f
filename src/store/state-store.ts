import type { DomainEvent } from "../entity/model.js";
import type { CommandMeta } from "./event-meta.js";
import type { TimerChange, TimerStore } from "./timer-store.js";

export type { ClaimedTimer, StoredTimer, TimerChange, TimerStore } from "./timer-store.js";
import type { ReplicatedStore } from "./replicated/replicated-store.js";

/** Which entity: its type (the entity's name) and id. The store adds its own namespace (the service). */
export interface EntityKey {
  readonly entityType: string;
  readonly entityId: string;
}

export interface Snapshot {
  readonly version: number;
  readonly state: unknown;
  /** The entity's schema version that wrote it (absent: 1). */
  readonly schemaVersion?: number | undefined;
  /** The fingerprint of the definition that wrote it (`EntityModel.fingerprint`). */
  readonly fingerprint?: string | undefined;
}

/**
 * What a redelivered command is answered with: the first delivery's reply, the version it
 * produced and the id of the reply CloudEvent, so that the repeat is identical.
 */
export interface DedupRecord {
  readonly version: number;
  readonly reply: unknown;
  readonly replyId: string;
}

export interface LoadedEntity {
  /** The entity's current version: the number of events (updates) stored, 0 before the first. */
  readonly version: number;
  /** The latest snapshot, if any; `events` are the ones after it. */
  readonly snapshot: Snapshot | undefined;
  readonly events: readonly DomainEvent[];
  /** Dedup records found for the ids asked for. */
  readonly duplicates: ReadonlyMap<string, DedupRecord>;
  /** What reading `snapshot` and `events` took, to weigh a new snapshot; absent when nothing was read. */
  readonly stored?: StoredSize | undefined;
}

/** Sizes of what a load read, in characters of stored JSON (event types included). */
export interface StoredSize {
  readonly snapshot: number;
  readonly events: number;
}

export interface AppendRequest {
  readonly key: EntityKey;
  /** The version the events were decided on; the append fails with a conflict otherwise. */
  readonly expectedVersion: number;
  /** At least one. The new version is `expectedVersion + events.length`. */
  readonly events: readonly DomainEvent[];
  /** Keep the events readable (event-sourced) or only advance the version (value entities). */
  readonly logEvents: boolean;
  /** The state at the new version, written with the append. */
  readonly snapshot?: Snapshot | undefined;
  /** Dedup ids that must not exist yet (checked first: a hit appends nothing). */
  readonly checkDedup: readonly string[];
  /** Dedup records to write with the append. */
  readonly writeDedup: ReadonlyArray<readonly [id: string, record: DedupRecord]>;
  /** How long dedup records live. */
  readonly dedupTtlMs: number;
  /** Timers set or cancelled with the append, in order (the last change of a name wins). */
  readonly timers?: readonly TimerChange[] | undefined;
  /** Events to publish, written to the service's outbox in the same append (absent or empty: none). */
  readonly outbox?: readonly OutboxMessage[] | undefined;
  /**
   * Per event, what is recorded of its command (see event-meta.ts): the command's metadata at
   * its first event, `null` at the following ones. Absent: nothing is recorded.
   */
  readonly meta?: ReadonlyArray<CommandMeta | null> | undefined;
}

/**
 * One committed event to publish (see src/outbox/): the CloudEvent's attributes but `source`,
 * which the relay adds (`/<service>/<entity>`), with the extensions of `K_CE_OVERRIDES`.
 */
export interface OutboxMessage {
  /** `<entity>/<entity id>/<version>`: stable, so consumers deduplicate on `source` + `id`. */
  readonly id: string;
  readonly entityType: string;
  readonly entityId: string;
  /** The entity version the event produced. */
  readonly version: number;
  /** The full CloudEvent type, `<prefix>.<entity>.<name>`. */
  readonly type: string;
  readonly data: unknown;
  /** When the event was committed (ISO 8601). */
  readonly time: string;
  /** The W3C trace context of the command that committed it. */
  readonly traceparent?: string | undefined;
}

export type AppendResult =
  | { readonly kind: "ok"; readonly version: number }
  | { readonly kind: "conflict"; readonly version: number }
  | { readonly kind: "duplicate"; readonly duplicates: ReadonlyMap<string, DedupRecord> };

/** `erased`: something was stored; `version`: the entity's version now (the tombstone's, or 0). */
export interface DeleteResult {
  readonly erased: boolean;
  readonly version: number;
}

export interface CheckResult {
  readonly version: number;
  readonly duplicates: ReadonlyMap<string, DedupRecord>;
}

/**
 * Where entity state lives. Implementations must make `append` atomic: the expected-version
 * check, the dedup check, the events, the snapshot and the dedup records are written all
 * together or not at all. A call whose outcome is unknown (a timeout after the request was
 * sent) must reject with `StoreUnavailable`; the host answers 503 and redelivery is safe.
 */
export interface StateStore {
  readonly name: string;
  /** The latest snapshot plus the events after it, and dedup hits for `dedupIds`. */
  load(key: EntityKey, dedupIds: readonly string[]): Promise<LoadedEntity>;
  /** The current version and dedup hits, without the state (to validate a cached state). */
  check(key: EntityKey, dedupIds: readonly string[]): Promise<CheckResult>;
  append(request: AppendRequest): Promise<AppendResult>;
  /** Stored events with versions in [from, to], in order (event-sourced entities). */
  readEvents(
    key: EntityKey,
    fromVersion: number,
    toVersion?: number,
  ): Promise<Array<DomainEvent & { version: number }>>;
  /**
   * Erases every stored record of the entity (events, snapshot, dedup records), atomically. What
   * remains is a tombstone holding the next version: the entity reads as its initial state at
   * that version, and a writer that decided on the erased state conflicts.
   */
  delete(key: EntityKey): Promise<DeleteResult>;
  /**
   * The last version whose events retention deleted (0: none; see retention.ts), for a load
   * that cannot use the snapshot and would otherwise fold a partial history. Absent: never trims.
   */
  trimmedThrough?(key: EntityKey): Promise<number>;
  /** Resolves when the store can serve requests; rejects with the reason otherwise. */
  ping(): Promise<void>;
  /** Durable timers (claim, settle, list); absent in a store that keeps none. */
  readonly timers?: TimerStore;
  /** Replicated entities (src/store/replicated/); a store without it cannot serve them. */
  readonly replicated?: ReplicatedStore;
  close(): Promise<void>;
}

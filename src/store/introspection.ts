import type { DomainEvent } from "../entity/model.js";
import type { CommandMeta } from "./event-meta.js";
import type { OutboxAdmin } from "./outbox-admin.js";
import type { DedupRecord, EntityKey, Snapshot } from "./state-store.js";

/**
 * A stored event with what was recorded of its command: `CommandMeta` on the command's first
 * event, `"same"` on its further events, `undefined` when nothing was recorded.
 */
export interface LoggedEvent extends DomainEvent {
  readonly version: number;
  readonly meta?: CommandMeta | "same" | undefined;
}

/** One page of a type's entity ids, newest first; `cursor` asks for the next page (null: no more). */
export interface EntityPage {
  readonly ids: readonly string[];
  readonly cursor: string | null;
}

export interface ListEntitiesOptions {
  /** Only ids starting with this ("" for all). */
  readonly prefix: string;
  readonly limit: number;
  /** A `cursor` of the previous page. */
  readonly cursor: string | undefined;
}

/** A live dedup record of an entity: the dedup id (or `#<digest>` when it was stored hashed). */
export interface DedupEntry {
  readonly id: string;
  readonly expiresAt: number | undefined;
  readonly record: DedupRecord;
}

/** A cursor the store cannot read: the caller's mistake (answered 400). */
export class BadCursor extends Error {}

/**
 * What the admin API asks of a store beyond `StateStore`, each optional: a view whose method a
 * store lacks is shown as "not available". Timers (`StateStore.timers`), replicated values
 * (`StateStore.replicated`) and deletion come from the store's own interface.
 */
export interface StoreIntrospection {
  /** The ids of a type, newest first (throws `BadCursor` for a cursor it did not make). */
  listEntities?(entityType: string, options: ListEntitiesOptions): Promise<EntityPage>;
  /** How many entities of a type exist, when the store knows it cheaply. */
  countEntities?(entityType: string): Promise<number | undefined>;
  /** `readEvents` with each event's recorded metadata. */
  readEventLog?(key: EntityKey, fromVersion: number, toVersion: number): Promise<LoggedEvent[]>;
  /** The entity's dedup records that have not expired. */
  listDedup?(key: EntityKey): Promise<DedupEntry[]>;
  /** Writes `snapshot` if the entity is still at its version; false when it moved on. */
  writeSnapshot?(key: EntityKey, snapshot: Snapshot): Promise<boolean>;
  /** The outbox: length, oldest pending, dead letters to retry or drop. */
  readonly outboxAdmin?: OutboxAdmin;
}

/** A cursor over (score, id) pairs, opaque to clients. */
export function encodeCursor(score: number, id: string): string {
  return Buffer.from(JSON.stringify([score, id])).toString("base64url");
}

export function decodeCursor(cursor: string): { score: number; id: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(value) && typeof value[0] === "number" && typeof value[1] === "string") {
      return { score: value[0], id: value[1] };
    }
  } catch {
    // falls through
  }
  throw new BadCursor("the cursor is not one this API returned");
}

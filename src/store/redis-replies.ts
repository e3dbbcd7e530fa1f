import { decodeEvent, decodeRecord, parseJson } from "./append-encoding.js";
import type { DomainEvent } from "../entity/model.js";
import { decodeMeta } from "./event-meta.js";
import type { LoggedEvent } from "./introspection.js";
import type { DedupRecord } from "./state-store.js";

/** A stream entry as XRANGE answers it. */
export type StreamEntry = [id: string, fields: string[]];

/** Events read from an entity's stream and hash, in version order, with their stored size. */
export interface ReadEvents {
  readonly events: LoggedEvent[];
  /** Characters of stored text read (event types and data). */
  readonly size: number;
}

/**
 * The events of a script reply: stream entries (fields `e`, or `t` and `d` in the layout before
 * events were kept in the hash), then the hash's encoded events from version `first` on (nil
 * where a version has none: a value entity's update).
 */
export function toEvents(
  entries: readonly StreamEntry[],
  first: number,
  values: ReadonlyArray<string | null>,
  withMeta = false,
): ReadEvents {
  const events: LoggedEvent[] = [];
  let meta: LoggedEvent["meta"];
  let size = 0;
  for (const [id, fields] of entries) {
    const version = Number(id.slice(0, id.indexOf("-")));
    let type = "";
    let data: unknown = undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const value = fields[i + 1]!;
      size += value.length;
      if (fields[i] === "e") {
        ({ type, data } = decodeEvent(value));
        if (withMeta) meta = decodeMeta(value);
      } else if (fields[i] === "t") type = value;
      else if (fields[i] === "d") data = parseJson(value);
    }
    events.push(withMeta ? { type, data, version, meta } : { type, data, version });
  }
  values.forEach((value, i) => {
    if (value === null || value === undefined) return;
    size += value.length;
    const event = { ...decodeEvent(value), version: first + i };
    events.push(withMeta ? { ...event, meta: decodeMeta(value) } : event);
  });
  return { events, size };
}

/** What most loads find: no dedup record (shared, never written to). */
const NO_DUPLICATES: ReadonlyMap<string, DedupRecord> = new Map();

/** The live records of a load or check, by dedup id (`records` in the order of `ids`). */
export function toDuplicates(
  ids: readonly string[],
  records: ReadonlyArray<string | null>,
): ReadonlyMap<string, DedupRecord> {
  let found: Map<string, DedupRecord> | undefined;
  for (let i = 0; i < ids.length; i++) {
    const record = records[i];
    if (record === null || record === undefined) continue;
    found ??= new Map();
    found.set(ids[i]!, decodeRecord(record, true));
  }
  return found ?? NO_DUPLICATES;
}

/** The records of a `duplicate` append reply: pairs of (1-based index among `ids`, record). */
export function toHits(
  ids: readonly string[],
  hits: ReadonlyArray<number | string>,
): Map<string, DedupRecord> {
  const duplicates = new Map<string, DedupRecord>();
  for (let i = 0; i + 1 < hits.length; i += 2) {
    const id = ids[(hits[i] as number) - 1];
    if (id !== undefined) duplicates.set(id, decodeRecord(hits[i + 1] as string, true));
  }
  return duplicates;
}

/** An event as loaded: without the version the stream or hash gave it, with its schema version. */
export function withoutVersion(event: DomainEvent & { version: number }): DomainEvent {
  return event.schemaVersion === undefined
    ? { type: event.type, data: event.data }
    : { type: event.type, data: event.data, schemaVersion: event.schemaVersion };
}

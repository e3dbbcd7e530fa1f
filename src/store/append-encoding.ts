import { createHash } from "node:crypto";
import type { DomainEvent } from "../entity/model.js";
import { encodeMeta, metaLength, SAME_COMMAND } from "./event-meta.js";
import { encodeSegment } from "./redis-keys.js";
import { decodeReplyId, encodeReplyId } from "./reply-id.js";
import type { AppendRequest, DedupRecord, Snapshot } from "./state-store.js";

/**
 * The one encoding of an append: `encodeAppend` turns an `AppendRequest` into the argument list
 * of the Redis append script (its ARGV), and `decodeAppend` reads that list back into the plan
 * the memory store executes, so both stores commit exactly the same values.
 *
 * ```
 * ARGV: "1" (format), expected version, log flag (1|0), dedup TTL ms, spill threshold,
 *       then counted sections, each "<count>" followed by count × width items:
 *         events    width 1   encoded event (see encodeEvent), the first of each command
 *                             prefixed with what is recorded of the command (event-meta.ts)
 *         snapshot  width 2   version, encoded snapshot (see encodeSnapshot; count 0 or 1)
 *         check     width 1   dedup field names that must not hold a live record
 *         write     width 2   dedup field name, encoded record (see encodeRecord)
 *         timers    width 4   timer name, due ms ("" cancels), timer JSON ("" cancels),
 *                             due-index member (see timerMember)
 *         index     width 1   the entity id as a key segment (encodeSegment: injective, valid
 *                             UTF-8), on an entity's first append, or the first after its
 *                             erasure (count 0 or 1):
 *                             added to the type's index of ids by creation time (KEYS: the
 *                             index key last, passed only when the count is 1)
 *         outbox    width 1   an outbox message's JSON (see src/outbox/), for the service's outbox
 * ```
 *
 * A new kind of effect (outbox messages, timers, replicated-type operations) becomes one more
 * counted section at the end: add it to `SECTIONS`, to `encodeAppend`/`decodeAppend` here and to
 * the append script's section list; older sections keep their place.
 */

export const APPEND_FORMAT = "1";

/** Events an entity keeps in its hash before they move to its stream (at most this many at a time). */
export const DEFAULT_SPILL = 32;

/** The sections after the header, in order, with how many arguments each item takes. */
export const SECTIONS = [
  { name: "events", width: 1 },
  { name: "snapshot", width: 2 },
  { name: "check", width: 1 },
  { name: "write", width: 2 },
  { name: "timers", width: 4 },
  { name: "index", width: 1 },
  { name: "outbox", width: 1 },
] as const;

/** Number of header arguments before the first section. */
export const HEADER_LENGTH = 5;

/** What an append commits, in stored form: the same values in both stores. */
export interface AppendPlan {
  readonly expectedVersion: number;
  readonly logEvents: boolean;
  readonly dedupTtlMs: number;
  readonly spill: number;
  /** Encoded events (empty strings when not logged), one per new version. */
  readonly events: readonly string[];
  readonly snapshot: { readonly version: number; readonly state: string } | undefined;
  /** Dedup fields that must not hold a live record. */
  readonly check: readonly string[];
  /** Dedup fields and encoded records to write. */
  readonly write: ReadonlyArray<readonly [field: string, record: string]>;
  /** Timers to set (`due` and `timer` non-empty) or cancel, with their due-index member. */
  readonly timers: ReadonlyArray<{ name: string; due: string; timer: string; member: string }>;
  /** The entity id (encoded by `encodeSegment`) to add to its type's index (first append, or first after erasure). */
  readonly index: string | undefined;
  /** Outbox messages (JSON), in order. */
  readonly outbox: readonly string[];
}

/**
 * The script's ARGV for `request`. Serializes every value first, so a value that cannot be
 * stored throws before anything is sent. `index`: this append adds the entity to its type's
 * index (the caller's choice: an entity's first append, or the first after its erasure).
 */
export function encodeAppend(request: AppendRequest, spill = DEFAULT_SPILL, index = false): string[] {
  const { events, snapshot, checkDedup, writeDedup } = request;
  const args = [
    APPEND_FORMAT,
    String(request.expectedVersion),
    request.logEvents ? "1" : "0",
    String(Math.max(1, Math.round(request.dedupTtlMs))),
    String(spill),
    String(events.length),
  ];
  const { meta } = request;
  for (let i = 0; i < events.length; i++) {
    if (!request.logEvents) args.push("");
    else if (meta === undefined) args.push(encodeEvent(events[i]!));
    else {
      const m = meta[i];
      args.push(`${m ? encodeMeta(m) : m === null ? SAME_COMMAND : ""}${encodeEvent(events[i]!)}`);
    }
  }
  if (snapshot) args.push("1", String(snapshot.version), encodeSnapshot(snapshot));
  else args.push("0");
  args.push(String(checkDedup.length));
  const checked = checkDedup.map(dedupField);
  args.push(...checked);
  args.push(String(writeDedup.length));
  for (const [id, record] of writeDedup) {
    // The host writes the ids it checked: reuse their fields rather than hash them again.
    const i = checkDedup.indexOf(id);
    args.push(i >= 0 ? checked[i]! : dedupField(id), encodeRecord(record));
  }
  const timers = request.timers ?? [];
  args.push(String(timers.length));
  for (const change of timers) {
    const name = change.kind === "set" ? change.timer.name : change.name;
    const member = timerMember(request.key.entityType, request.key.entityId, name);
    if (change.kind === "cancel") args.push(name, "", "", member);
    else args.push(name, String(change.timer.due), stringify(change.timer), member);
  }
  if (index) args.push("1", encodeSegment(request.key.entityId));
  else args.push("0");
  const outbox = request.outbox ?? [];
  args.push(String(outbox.length));
  for (const message of outbox) args.push(stringify(message));
  return args;
}

/** The plan an argument list encodes; throws on a malformed list (the script refuses the same). */
export function decodeAppend(args: readonly string[]): AppendPlan {
  if (args[0] !== APPEND_FORMAT) throw new Error("knstate append: unknown encoding");
  let pos = HEADER_LENGTH;
  const sections = SECTIONS.map(({ width }) => {
    if (pos >= args.length) throw new Error("knstate append: wrong number of arguments");
    const n = Number(args[pos]);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error("knstate append: bad counts");
    const items = args.slice(pos + 1, pos + 1 + n * width);
    pos += 1 + n * width;
    return items;
  });
  if (pos !== args.length) throw new Error("knstate append: wrong number of arguments");
  const [events, snapshot, check, write, timerItems, index, outbox] = sections as [
    string[],
    string[],
    string[],
    string[],
    string[],
    string[],
    string[],
  ];
  const pairs: Array<readonly [string, string]> = [];
  for (let i = 0; i < write.length; i += 2) pairs.push([write[i]!, write[i + 1]!]);
  const timers: Array<{ name: string; due: string; timer: string; member: string }> = [];
  for (let i = 0; i < timerItems.length; i += 4) {
    const [name, due, timer, member] = timerItems.slice(i, i + 4) as [string, string, string, string];
    timers.push({ name, due, timer, member });
  }
  return {
    expectedVersion: Number(args[1]),
    logEvents: args[2] === "1",
    dedupTtlMs: Number(args[3]),
    spill: Number(args[4]),
    events,
    snapshot: snapshot.length === 2 ? { version: Number(snapshot[0]), state: snapshot[1]! } : undefined,
    check,
    write: pairs,
    timers,
    index: index[0],
    outbox,
  };
}

/** A timer's member in the service's due index: its entity and name, as JSON `[type, id, name]`. */
export function timerMember(entityType: string, entityId: string, name: string): string {
  return JSON.stringify([entityType, entityId, name]);
}

/**
 * An event as one string: the type's length, `|`, the type, then the data's JSON ("" for none).
 * An event written by a schema version above 1 starts with that version and `@`
 * (`2@7|renamed{…}`); version 1 adds nothing, so existing entries keep their size.
 */
export function encodeEvent(event: DomainEvent): string {
  const head =
    event.schemaVersion === undefined || event.schemaVersion === 1 ? "" : `${event.schemaVersion}@`;
  return `${head}${event.type.length}|${event.type}${stringify(event.data)}`;
}

export function decodeEvent(stored: string): DomainEvent {
  const text = stored.charCodeAt(0) > 57 ? stored.slice(metaLength(stored)) : stored;
  const bar = text.indexOf("|");
  const at = text.lastIndexOf("@", bar);
  const length = Number(text.slice(at + 1, bar));
  const start = bar + 1;
  const type = text.slice(start, start + length);
  const data = parseJson(text.slice(start + length));
  return at === -1 ? { type, data } : { type, data, schemaVersion: Number(text.slice(0, at)) };
}

/**
 * A snapshot's stored text: the state's JSON, preceded by `~<schema version>|<fingerprint>|`
 * when the snapshot records them (the version is empty for 1). JSON never starts with `~`, so
 * snapshots written before versioning read back as they are.
 */
export function encodeSnapshot(snapshot: Snapshot): string {
  const { schemaVersion, fingerprint } = snapshot;
  const json = stringify(snapshot.state);
  if (fingerprint === undefined && (schemaVersion === undefined || schemaVersion === 1)) return json;
  return `~${schemaVersion === undefined || schemaVersion === 1 ? "" : schemaVersion}|${fingerprint ?? ""}|${json}`;
}

/** The snapshot of stored text `text` at `version`. */
export function decodeSnapshot(text: string, version: number): Snapshot {
  if (!text.startsWith("~")) return { version, state: parseJson(text) };
  const bar = text.indexOf("|");
  const end = text.indexOf("|", bar + 1);
  const schemaVersion = bar === 1 ? 1 : Number(text.slice(1, bar));
  const fingerprint = text.slice(bar + 1, end);
  return {
    version,
    state: parseJson(text.slice(end + 1)),
    schemaVersion,
    ...(fingerprint === "" ? {} : { fingerprint }),
  };
}

/**
 * A dedup record as one short string: `<version>|`, the reply id, then the reply's JSON. A
 * reply id that is a lowercase UUID (as the host makes them) is `u` and its 16 bytes in base64url
 * (23 characters instead of 36); any other is `<length>|<id>`. Short enough that a small reply
 * keeps the entity's hash in Redis's compact encoding. The Redis script prefixes it with the
 * record's expiry time (ms, hex) and `|`.
 */
export function encodeRecord(record: DedupRecord): string {
  return `${record.version}|${encodeReplyId(record.replyId)}${stringify(record.reply)}`;
}

/** A stored record: the compact form (with or without its expiry prefix) or an older JSON record. */
export function decodeRecord(text: string, withExpiry: boolean): DedupRecord {
  if (text.startsWith("{")) return JSON.parse(text) as DedupRecord;
  const rest = withExpiry ? text.slice(text.indexOf("|") + 1) : text;
  const bar = rest.indexOf("|");
  const version = Number(rest.slice(0, bar));
  const { replyId, after } = decodeReplyId(rest.slice(bar + 1));
  return { version, replyId, reply: parseJson(after) };
}

/** Longest dedup id kept readable as a field name (in bytes); longer ones are hashed. */
export const MAX_RAW_DEDUP_FIELD = 32;

/**
 * The hash field of a dedup id: `r` and the id when it is short, valid Unicode text, or `#` and
 * 128 bits of the SHA-256 of its encoding (base64url), so that fields stay small enough for
 * Redis's compact hash encoding.
 */
export function dedupField(id: string): string {
  if (id.length <= MAX_RAW_DEDUP_FIELD && id.isWellFormed() && Buffer.byteLength(id) <= MAX_RAW_DEDUP_FIELD) {
    return `r${id}`;
  }
  const bytes = id.isWellFormed() ? id : escapeSurrogates(id);
  return `#${createHash("sha256").update(bytes).digest().subarray(0, 16).toString("base64url")}`;
}

/** Lone surrogates as `%uXXXX` (they would all become U+FFFD in UTF-8), `%` escaped first. */
function escapeSurrogates(id: string): string {
  return id
    .replace(/%/g, "%25")
    .replace(
      /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
      (c) => `%u${c.charCodeAt(0).toString(16)}`,
    );
}

/** JSON text of a value; "" for `undefined` (which JSON cannot hold). */
export function stringify(value: unknown): string {
  const text = JSON.stringify(value) as string | undefined;
  return text ?? "";
}

export function parseJson(text: string): unknown {
  return text === "" ? undefined : JSON.parse(text);
}

import { createHash } from "node:crypto";

/**
 * Schema evolution of entities: the version of the definition that wrote each event and
 * snapshot, upcasters that turn old events into current ones, and the checks that refuse what
 * cannot be read instead of folding it into a silently wrong state. Pure code, no I/O.
 */

/** An event as stored: `schemaVersion` is the entity's version that wrote it (absent = 1). */
export interface VersionedEvent {
  readonly type: string;
  readonly data: unknown;
  readonly schemaVersion?: number | undefined;
}

/** What an upcaster turns an old event into: one current event, several, or none (dropped). */
export type UpcastResult<E> = E | readonly E[] | null;

/** Where the event being upcast came from. */
export interface UpcastSource {
  readonly type: string;
  readonly schemaVersion: number;
}

/**
 * Upcasters by stored event: `"type@N"` for events of `type` written at schema version N or
 * earlier (and after the next lower `type@M` key), `"type"` for events of a type that no longer
 * has a handler (renamed or merged), whatever their version. Each returns current events,
 * checked against the entity's event handlers by the compiler.
 */
export type Upcasters<E> = {
  readonly [stored: string]: (data: never, source: UpcastSource) => UpcastResult<E>;
};

/** A stored event that no handler or upcaster of the current definition accepts. */
export class UnreadableEvent extends Error {
  readonly entity: string;
  readonly eventType: string;
  readonly schemaVersion: number;
  constructor(entity: string, eventType: string, schemaVersion: number, why: string) {
    super(
      `entity ${entity} cannot read its stored event "${eventType}" (schema version ${schemaVersion}): ${why}`,
    );
    this.name = "UnreadableEvent";
    this.entity = entity;
    this.eventType = eventType;
    this.schemaVersion = schemaVersion;
  }
}

type LooseUpcaster = (data: unknown, source: UpcastSource) => unknown;
const KEY = /^(.+?)(?:@([1-9][0-9]{0,8}))?$/;

/**
 * Compiles an entity's upcasters into `upcast(event) → current events`, after checking the
 * keys: a versioned key must be below the current version, and a plain key must not name a
 * current event type (that event would be rewritten at every load, its own output included).
 */
export function compileUpcasters(
  entity: string,
  schemaVersion: number,
  handlers: Readonly<Record<string, unknown>>,
  upcasters: Readonly<Record<string, LooseUpcaster>>,
): (event: VersionedEvent) => readonly VersionedEvent[] {
  const has = (type: string) => Object.hasOwn(handlers, type);
  const versioned = new Map<string, Array<[number, LooseUpcaster]>>();
  const renamed = new Map<string, LooseUpcaster>();
  for (const [key, fn] of Object.entries(upcasters)) {
    const [, type = key, at] = KEY.exec(key) ?? [];
    if (at === undefined) {
      if (has(type))
        throw new TypeError(`${entity}: upcaster "${key}" names a current event; use "${key}@<version>"`);
      renamed.set(type, fn);
      continue;
    }
    const version = Number(at);
    if (version >= schemaVersion)
      throw new TypeError(`${entity}: upcaster "${key}" must be below schemaVersion ${schemaVersion}`);
    const chain: Array<[number, LooseUpcaster]> = [...(versioned.get(type) ?? []), [version, fn]];
    versioned.set(
      type,
      chain.sort((a, b) => a[0] - b[0]),
    );
  }
  return (event) => {
    const version = event.schemaVersion ?? 1;
    const unreadable = (why: string) => new UnreadableEvent(entity, event.type, version, why);
    if (version > schemaVersion)
      throw unreadable(
        `it was written by a newer definition (schemaVersion ${schemaVersion} here); roll forward`,
      );
    const fn =
      versioned.get(event.type)?.find(([upTo]) => upTo >= version)?.[1] ??
      (has(event.type) ? undefined : renamed.get(event.type));
    if (fn === undefined) {
      if (has(event.type)) return [event];
      throw unreadable("no event handler or upcaster accepts it");
    }
    const result = fn(event.data, { type: event.type, schemaVersion: version });
    const events = (result === null ? [] : Array.isArray(result) ? result : [result]) as VersionedEvent[];
    for (const out of events) {
      if (typeof out?.type !== "string" || !has(out.type))
        throw unreadable(`its upcaster returned ${JSON.stringify(out?.type)}, which no event handler folds`);
    }
    return events;
  };
}

/**
 * A fingerprint of what a snapshot's state depends on: the schema version, the event handlers'
 * and upcasters' code and the initial state's code. A snapshot taken under another fingerprint
 * is not trusted (its state is rebuilt from the events), so changing a handler without bumping
 * the version costs one replay per entity instead of a silently stale state.
 */
export function definitionFingerprint(
  schemaVersion: number,
  parts: Readonly<Record<string, Readonly<Record<string, unknown>> | ((...args: never[]) => unknown)>>,
): string {
  const hash = createHash("sha256").update(`v${schemaVersion}`);
  for (const name of Object.keys(parts).sort()) {
    const part = parts[name];
    hash.update(`\n#${name}`);
    if (typeof part === "function") hash.update(`=${part.toString()}`);
    else
      for (const key of Object.keys(part ?? {}).sort())
        hash.update(`\n${key}=${String((part as Record<string, unknown>)[key])}`);
  }
  // 66 bits: plenty to tell definitions apart, and short, as it is stored with every snapshot.
  return hash.digest("base64url").slice(0, 11);
}

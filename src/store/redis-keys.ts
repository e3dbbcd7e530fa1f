import { createHash } from "node:crypto";
import type { EntityKey } from "./state-store.js";

/**
 * Redis key layout. Every key of one entity shares the hash tag `{<encoded id>}`, so the
 * scripts that touch them run on one Redis Cluster node:
 *
 * ```
 * <prefix>:<service>:<entityType>:{<id>}:m          hash: the entity (fields in redis-scripts.ts)
 * <prefix>:<service>:<entityType>:{<id>}:e          stream: events past the hash's, id `<version>-1`
 * <prefix>:<service>:<entityType>:{<id>}:d:<dedup>  string: a dedup record of the former layout
 *                                                    (read only, until its TTL ends)
 * <prefix>:<service>:<entityType>:{<id>}:t          hash: the entity's pending timers
 * <prefix>:<service>:timers:due                      sorted set: due timers of the service (standalone,
 *                                                    Sentinel)
 * <prefix>:<service>:timers:due:{<slot tag>}         sorted set: due timers of the entities in one slot
 *                                                    (Redis Cluster; the tag is the slot's, slot-tags.ts)
 * <prefix>:<service>:timers:slots                    sorted set: slot tag → earliest due time of that
 *                                                    slot's due index (Redis Cluster)
 * <prefix>:<service>:<entityType>:i                 sorted set: the type's entity ids by creation
 *                                                    time (ms), written by an entity's first append
 *                                                    (standalone and Sentinel; see docs/admin.md)
 * ```
 *
 * Segments are encoded so that no input can reach another entity's or service's keys: `:`,
 * `{`, `}`, `%` and every other byte outside a small safe set are percent-encoded, so the tag
 * never holds a brace and a segment never holds a separator.
 */

/** Longest encoded id kept readable; longer ids are replaced by their SHA-256. */
export const MAX_ENCODED_ID = 200;
/** Longest dedup id kept as is; longer ids are replaced by their SHA-256. */
export const MAX_DEDUP_ID = 200;

export interface EntityKeys {
  readonly meta: string;
  readonly events: string;
  /** The key of one dedup record in the former layout (records now live in the hash). */
  readonly dedup: (id: string) => string;
  /** Hash: the entity's pending timers, name → timer JSON. */
  readonly timers: string;
}

/** Builds the keys of entities of one service. `prefix` and `service` are fixed per process. */
export class KeyLayout {
  readonly #base: string;

  constructor(prefix: string, service: string) {
    if (/[{}]/.test(prefix)) {
      throw new Error(`KNSTATE_KEY_PREFIX must not contain "{" or "}" (got ${JSON.stringify(prefix)})`);
    }
    this.#base = `${prefix}:${encodeSegment(service)}:`;
  }

  /** Every key of `<prefix>:<service>:` (for SCAN in operations, never used at runtime). */
  get pattern(): string {
    return `${this.#base}*`;
  }

  /** The sorted set of a type's entity ids by creation time (no hash tag: another slot on a cluster). */
  entityIndex(entityType: string): string {
    return `${this.#base}${encodeSegment(entityType)}:i`;
  }

  /** SCAN pattern of the entity hashes of one type (the index's fallback). */
  entityPattern(entityType: string): string {
    return `${this.#base}${encodeSegment(entityType)}:{*}:m`;
  }

  entity(key: EntityKey): EntityKeys {
    const root = `${this.#base}${encodeSegment(key.entityType)}:{${encodeEntityId(key.entityId)}}:`;
    return {
      meta: `${root}m`,
      events: `${root}e`,
      dedup: (id: string) => `${root}d:${encodeDedupId(id)}`,
      timers: `${root}t`,
    };
  }

  /** Sorted set: the service's pending timers by due time (see docs/timers.md). */
  get dueIndex(): string {
    return `${this.#base}timers:due`;
  }

  /** Sorted set on a Redis Cluster: the pending timers of the entities in the slot of `tag`. */
  slotDueIndex(tag: string): string {
    return `${this.#base}timers:due:{${tag}}`;
  }

  /** SCAN pattern of every slot's due index (the prefix matched literally). */
  get slotDueIndexPattern(): string {
    return `${this.#base.replace(/[*?[\]\\]/g, "\\$&")}timers:due:{*}`;
  }

  /** Sorted set on a Redis Cluster: slot tag → earliest score in that slot's due index. */
  get dueSlots(): string {
    return `${this.#base}timers:slots`;
  }
}

/**
 * A string as a key segment: unreserved URL characters stay, everything else becomes `%XX`
 * per UTF-8 byte; a lone surrogate (not valid Unicode) becomes `%uXXXX`. Injective: every `%`
 * in the output starts an escape, and the two escape forms cannot be confused.
 */
export function encodeSegment(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (isSafe(code)) {
      out += value[i];
      continue;
    }
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += percentBytes(value.slice(i, i + 2));
        i++;
        continue;
      }
    }
    if (code >= 0xd800 && code <= 0xdfff) out += `%u${code.toString(16).toUpperCase().padStart(4, "0")}`;
    else out += percentBytes(value[i]!);
  }
  return out;
}

/**
 * The id inside the hash tag. Empty becomes `%-` (an empty tag would make Redis hash the whole
 * key, splitting the entity over slots); an encoding longer than `MAX_ENCODED_ID` becomes `#`
 * and the SHA-256 of the encoding. Neither `%-` nor `#` can come out of `encodeSegment`.
 */
export function encodeEntityId(id: string): string {
  if (id.length === 0) return "%-";
  const encoded = encodeSegment(id);
  if (encoded.length <= MAX_ENCODED_ID) return encoded;
  return `#${createHash("sha256").update(encoded).digest("hex")}`;
}

/**
 * The dedup id as the last key segment (it may hold anything, the tag comes before it): `r:`
 * and the id, or `h:` and the SHA-256 of its encoding when it is longer than `MAX_DEDUP_ID` or is
 * not valid Unicode.
 */
export function encodeDedupId(id: string): string {
  // Lone surrogates would all become U+FFFD on the wire: hash their injective encoding instead.
  if (id.length <= MAX_DEDUP_ID && id.isWellFormed()) return `r:${id}`;
  return `h:${createHash("sha256").update(encodeSegment(id)).digest("hex")}`;
}

function isSafe(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) || // 0-9
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    code === 0x2d || // -
    code === 0x2e || // .
    code === 0x5f || // _
    code === 0x7e // ~
  );
}

function percentBytes(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  return out;
}

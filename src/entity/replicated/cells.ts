import type { Json } from "./types.js";

/**
 * The stored form of replicated values: one flat map of cells (a Redis hash; a `Map` in
 * memory). A cell's name starts with its type's letter and the field name, then, inside a
 * map, the encoded key, then a set element or a voter:
 *
 * ```
 * #                      the entity's sequence: the number of operation batches applied
 * c|<field>              counter: the integer
 * f|<field>              flag: "1" once enabled
 * r|<field>              register: "<clock> <JSON value>"
 * s|<field>|<element>    set element (canonical JSON): the sequence of its latest add
 * v|<field>|<voter>      vote: "<expiresAt ms or 0> <JSON value>"
 * l|<field>              lease: "<token> <expiresAt ms> <holder>"
 * k|<field>|<key>        map entry: the sequence of its latest update; its value is the cell of
 *                        the entry's type with `<field>|<key>` as the field, e.g. c|likes|<key>
 * ```
 * Field names never contain `|`; map keys have `%` and `|` percent-encoded, so every name
 * parses one way.
 */
export type Cells = ReadonlyMap<string, string>;

/** The sequence cell. */
export const SEQ = "#";
/** Longest set element, voter, map key or lease holder, in UTF-8 bytes of its encoding. */
export const MAX_ELEMENT_BYTES = 1024;
/** Longest register or vote value, in UTF-8 bytes of its JSON. */
export const MAX_VALUE_BYTES = 65_536;

/** Cell name letters by type. */
export const LETTER = {
  counter: "c",
  flag: "f",
  register: "r",
  set: "s",
  vote: "v",
  lease: "l",
  map: "k",
} as const;

export const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** A map key as a name segment: `%` → `%25`, `|` → `%7C`. */
export function encodeKey(key: string): string {
  return key.replaceAll("%", "%25").replaceAll("|", "%7C");
}
export function decodeKey(encoded: string): string {
  return encoded.replaceAll("%7C", "|").replaceAll("%25", "%");
}

/**
 * JSON with object keys sorted, so equal values encode equally (a set element's identity).
 * Refuses what JSON cannot hold exactly: undefined, functions, NaN, Infinity, -0 stays 0.
 */
export function canonicalJson(value: unknown, what: string): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`${what} must be JSON: ${String(value)} is not`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item, what)).join(",")}]`;
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, item]) => `${JSON.stringify(k)}:${canonicalJson(item, what)}`).join(",")}}`;
  }
  throw new TypeError(`${what} must be JSON: got ${typeof value}`);
}

/** Throws unless `text` fits in `max` UTF-8 bytes. */
export function checkSize(text: string, max: number, what: string): string {
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > max) throw new TypeError(`${what} is ${bytes} bytes; at most ${max} are allowed`);
  return text;
}

/** Splits "<number> <rest>" (register, vote and lease cells). */
export function splitCell(value: string): [number, string] {
  const space = value.indexOf(" ");
  return space < 0 ? [Number(value), ""] : [Number(value.slice(0, space)), value.slice(space + 1)];
}

export function parseJson(text: string): Json {
  return JSON.parse(text) as Json;
}

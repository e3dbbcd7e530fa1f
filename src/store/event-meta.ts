/**
 * What is recorded of the command that appended events: when, which CloudEvent (id and source),
 * which trace. Stored once per command, as a prefix of the command's first stored event, so it
 * travels with the event (hash, then stream) and costs nothing in the append script:
 *
 * ```
 * ^<time ms, base 36>,[.<trace id>][!<CloudEvent id><source>]<event>
 *     trace id:      16 bytes in base64url (22 characters), when the command was traced
 *     CloudEvent id: `u` + 16 bytes base64url for a lowercase UUID, else `<length>:<id>`
 *     source:        `<length>:<source>`
 * ~<event>    a further event of the same command (one byte)
 * <event>     no metadata was recorded (written before it existed, or with it off)
 * ```
 *
 * An event's own encoding starts with a digit, so the three forms cannot be confused.
 */
export interface CommandMeta {
  /** When the host committed the command (ms since the epoch). */
  readonly time: number;
  /** The W3C trace id (32 hex digits) of the command, when it was traced. */
  readonly traceId?: string | undefined;
  /** The CloudEvent that carried the command, when one did. */
  readonly eventId?: string | undefined;
  readonly source?: string | undefined;
}

/** What is recorded per event: `KNSTATE_EVENT_METADATA`. */
export const EventMetadata = { off: "off", trace: "trace", full: "full" } as const;
export type EventMetadata = (typeof EventMetadata)[keyof typeof EventMetadata];

const CARET = 94;
const TILDE = 126;
const HEX32 = /^[0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The stored prefix of a command's first event. */
export function encodeMeta(meta: CommandMeta): string {
  let text = `^${meta.time.toString(36)},`;
  if (meta.traceId !== undefined && HEX32.test(meta.traceId)) {
    text += `.${Buffer.from(meta.traceId, "hex").toString("base64url")}`;
  }
  const id = meta.eventId ?? "";
  const source = meta.source ?? "";
  if (id === "" && source === "") return text;
  const idPart = UUID.test(id)
    ? `u${Buffer.from(id.replace(/-/g, ""), "hex").toString("base64url")}`
    : `${id.length}:${id}`;
  return `${text}!${idPart}${source.length}:${source}`;
}

/** The prefix of a further event of the same command. */
export const SAME_COMMAND = "~";

/** Length of the metadata prefix of a stored event (0 when it has none). */
export function metaLength(text: string): number {
  const first = text.charCodeAt(0);
  if (first === TILDE) return 1;
  if (first !== CARET) return 0;
  return readMeta(text).end;
}

/**
 * The metadata of a stored event: the command's (`CommandMeta`), `"same"` for a further event
 * of the same command as the event before it, `undefined` when none was recorded.
 */
export function decodeMeta(text: string): CommandMeta | "same" | undefined {
  const first = text.charCodeAt(0);
  if (first === TILDE) return "same";
  if (first !== CARET) return undefined;
  return readMeta(text).meta;
}

function readMeta(text: string): { meta: CommandMeta; end: number } {
  const comma = text.indexOf(",", 1);
  const time = parseInt(text.slice(1, comma), 36);
  let pos = comma + 1;
  let traceId: string | undefined;
  if (text.charCodeAt(pos) === 46 /* . */) {
    traceId = Buffer.from(text.slice(pos + 1, pos + 23), "base64url").toString("hex");
    pos += 23;
  }
  if (text.charCodeAt(pos) !== 33 /* ! */) {
    return { meta: traceId === undefined ? { time } : { time, traceId }, end: pos };
  }
  pos++;
  let eventId: string;
  if (text.charCodeAt(pos) === 117 /* u */) {
    const hex = Buffer.from(text.slice(pos + 1, pos + 23), "base64url").toString("hex");
    eventId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    pos += 23;
  } else {
    const colon = text.indexOf(":", pos);
    const length = Number(text.slice(pos, colon));
    eventId = text.slice(colon + 1, colon + 1 + length);
    pos = colon + 1 + length;
  }
  const colon = text.indexOf(":", pos);
  const length = Number(text.slice(pos, colon));
  const source = text.slice(colon + 1, colon + 1 + length);
  const meta: CommandMeta = {
    time,
    ...(traceId === undefined ? {} : { traceId }),
    ...(eventId === "" ? {} : { eventId }),
    ...(source === "" ? {} : { source }),
  };
  return { meta, end: colon + 1 + length };
}

/**
 * What is recorded of the command that appended events: when, which CloudEvent (id and source),
 * which trace. Stored once per command, as a prefix of the command's first stored event, so it
 * travels with the event (hash, then stream) and costs nothing in the append script:
 *
 * ```
 * ^<time ms, base 36>,<trace id: 16 bytes base64url, or empty>,<CloudEvent id><source><event>
 *     CloudEvent id: `u` + 16 bytes base64url for a lowercase UUID, else `<length>:<id>`
 *     source:        `<length>:<source>` (`0:` with the id when there is none)
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
  const trace =
    meta.traceId !== undefined && HEX32.test(meta.traceId)
      ? Buffer.from(meta.traceId, "hex").toString("base64url")
      : "";
  const id = meta.eventId ?? "";
  const idPart = UUID.test(id)
    ? `u${Buffer.from(id.replace(/-/g, ""), "hex").toString("base64url")}`
    : `${id.length}:${id}`;
  const source = meta.source ?? "";
  return `^${meta.time.toString(36)},${trace},${idPart}${source.length}:${source}`;
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
  const c1 = text.indexOf(",", 1);
  const c2 = text.indexOf(",", c1 + 1);
  const time = parseInt(text.slice(1, c1), 36);
  const trace = text.slice(c1 + 1, c2);
  let pos = c2 + 1;
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
    ...(trace === "" ? {} : { traceId: Buffer.from(trace, "base64url").toString("hex") }),
    ...(eventId === "" ? {} : { eventId }),
    ...(source === "" ? {} : { source }),
  };
  return { meta, end: colon + 1 + length };
}

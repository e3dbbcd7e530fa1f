import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import { checkMediaType, checkString, invalid, isValidExtensionName, truncate } from "./attributes.js";
import { toIncomingEvent } from "./context.js";
import type { IncomingEvent } from "./event.js";
import { decodeHeaderValue } from "./header-value.js";
import { checkSpecVersion, decodeBody, MAX_ATTRIBUTES, utf8 } from "./data.js";
import { parseStructured } from "./structured.js";

export { parseStructured } from "./structured.js";
import { checkCharset, essence, parseJson } from "./json.js";

/** How an HTTP request carried its CloudEvents (CloudEvents HTTP binding, section 3). */
export type Mode = "binary" | "structured" | "batch";

export interface ParsedMessage {
  readonly mode: Mode;
  readonly events: readonly IncomingEvent[];
}

const MAX_BATCH = 1000;

/** The mode, from the `Content-Type` (binding 3.1.1, 3.2.1, 3.3.1). */
export function modeOf(contentType: string | undefined): Mode {
  if (contentType === undefined) return "binary";
  const type = essence(contentType);
  if (type === "application/cloudevents-batch+json") return "batch";
  if (type.startsWith("application/cloudevents")) return "structured";
  return "binary";
}

/**
 * Parses and strictly validates the CloudEvents of one HTTP request. `rawHeaders` is Node's
 * flat `[name, value, …]` list, read once: it keeps duplicates apart, which `headers` would join.
 */
export function parseMessage(rawHeaders: readonly string[], body: Buffer): ParsedMessage {
  let contentType: string | undefined;
  let encoding: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 12 && name.toLowerCase() === "content-type") {
      // Two Content-Types make the mode ambiguous (and Node's `headers` would keep the other one).
      if (contentType !== undefined) throw invalid("Content-Type is repeated");
      contentType = rawHeaders[i + 1];
    } else if (name.length === 16 && name.toLowerCase() === "content-encoding") {
      // A later `identity` must not hide an earlier `gzip`.
      if (encoding === undefined || encoding.trim().toLowerCase() === "identity")
        encoding = rawHeaders[i + 1];
    }
  }
  if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity") {
    throw new HostError(
      Problem.unsupportedMediaType,
      `Content-Encoding "${truncate(encoding)}" is not supported`,
    );
  }
  const mode = modeOf(contentType);
  if (mode === "binary") return { mode, events: [parseBinary(rawHeaders, contentType, body)] };
  const type = essence(contentType!);
  if (type !== "application/cloudevents+json" && type !== "application/cloudevents-batch+json") {
    throw new HostError(
      Problem.unsupportedMediaType,
      `structured mode supports only the JSON event format, not ${truncate(type)}`,
    );
  }
  checkCharset(contentType!);
  const json = parseJson(utf8(body), "the CloudEvent");
  if (mode === "structured") return { mode, events: [parseStructured(json)] };
  if (!Array.isArray(json)) throw invalid("a batch must be a JSON array of CloudEvents");
  if (json.length > MAX_BATCH) throw invalid(`a batch may hold at most ${MAX_BATCH} events`);
  return { mode, events: json.map((item, i) => parseStructured(item, i)) };
}

function parseBinary(
  rawHeaders: readonly string[],
  contentType: string | undefined,
  body: Buffer,
): IncomingEvent {
  // The context attributes in locals and only extensions in an object: no object rest, and no
  // dictionary-mode object on the hot path.
  let specversion: string | undefined;
  let id: string | undefined;
  let source: string | undefined;
  let type: string | undefined;
  let subject: string | undefined;
  let time: string | undefined;
  let dataschema: string | undefined;
  let rawSource: string | undefined;
  let rawDataschema: string | undefined;
  const extensions: Record<string, string> = {};
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i]!;
    if (
      raw.length < 4 ||
      (raw.charCodeAt(0) | 0x20) !== 0x63 ||
      (raw.charCodeAt(1) | 0x20) !== 0x65 ||
      raw[2] !== "-"
    ) {
      continue;
    }
    const name = raw.slice(3).toLowerCase();
    if (!isValidExtensionName(name)) throw invalid(`header ${truncate(raw)} does not name a valid attribute`);
    if (name === "datacontenttype")
      throw invalid("binary mode carries the content type in Content-Type, not ce-datacontenttype");
    if (++count > MAX_ATTRIBUTES) throw invalid(`at most ${MAX_ATTRIBUTES} attributes are allowed`);
    const undecoded = rawHeaders[i + 1]!;
    const value = decodeHeaderValue(name, undecoded);
    switch (name) {
      case "specversion":
        specversion = once(name, specversion, value);
        break;
      case "id":
        id = once(name, id, value);
        break;
      case "source":
        source = once(name, source, value);
        rawSource = undecoded;
        break;
      case "type":
        type = once(name, type, value);
        break;
      case "subject":
        subject = once(name, subject, value);
        break;
      case "time":
        time = once(name, time, value);
        break;
      case "dataschema":
        dataschema = once(name, dataschema, value);
        rawDataschema = undecoded;
        break;
      default:
        extensions[name] = once(name, Object.hasOwn(extensions, name) ? "" : undefined, value);
    }
  }
  if (count === 0) {
    throw invalid(
      "no CloudEvent found: send ce-specversion, ce-id, ce-source and ce-type headers (binary mode) or Content-Type: application/cloudevents+json (structured mode)",
    );
  }
  checkSpecVersion(specversion);
  const datacontenttype = contentType === undefined ? undefined : checkMediaType("content-type", contentType);
  const data = decodeBody(body, datacontenttype);
  const read = { id, source, type, subject, time, dataschema };
  return toIncomingEvent(
    read,
    datacontenttype,
    checkExtensionStrings(extensions),
    data,
    (name, value, check) => uriFromHeader(value, name === "source" ? rawSource : rawDataschema, check),
  );
}

/** `value`, unless the attribute was already set (`current` defined): a header sent twice. */
function once(name: string, current: string | undefined, value: string): string {
  if (current !== undefined) throw invalid(`header ce-${name} is repeated`);
  return value;
}

/**
 * A URI attribute from a header. Senders that do not percent-encode (sdk-go, which Knative's
 * brokers use) send a URI's own escapes as they are, and decoding `a%20b` gives `a b`, which is
 * no URI. An encoding sender never sends a value whose decoding is not a URI, so when only the
 * undecoded value is one, it is the URI the sender meant.
 */
function uriFromHeader(decoded: string, raw: string | undefined, check: (value: string) => string): string {
  try {
    return check(decoded);
  } catch (error) {
    if (raw === undefined || raw === decoded) throw error;
    try {
      return check(raw);
    } catch {
      throw error;
    }
  }
}

function checkExtensionStrings(extensions: Record<string, string>): Record<string, string> {
  for (const name in extensions) checkString(name, extensions[name]!);
  return extensions;
}

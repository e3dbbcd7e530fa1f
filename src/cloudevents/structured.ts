import { HostError } from "../errors/host-error.js";
import { checkMediaType, checkString, invalid, isValidExtensionName, truncate } from "./attributes.js";
import { toIncomingEvent } from "./context.js";
import { checkSpecVersion, decodeBody, MAX_ATTRIBUTES } from "./data.js";
import { JSON_FORMAT_MEMBERS, type DataKind, type IncomingEvent } from "./event.js";
import { isJsonMediaType } from "./json.js";

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Validates one event in the JSON format (structured mode or one batch element). `null`
 * means "not set" for optional attributes (JSON format 2.2).
 */
export function parseStructured(json: unknown, index?: number): IncomingEvent {
  const at = index === undefined ? "" : ` (batch element ${index})`;
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw invalid(`a CloudEvent must be a JSON object${at}`);
  }
  const object = json as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length > MAX_ATTRIBUTES + 2)
    throw invalid(`at most ${MAX_ATTRIBUTES} attributes are allowed${at}`);
  try {
    checkSpecVersion(object.specversion);
    const extensions: Record<string, string | number | boolean> = {};
    for (const key of keys) {
      if (JSON_FORMAT_MEMBERS.has(key)) continue;
      const value = object[key];
      if (!isValidExtensionName(key)) throw invalid(`"${truncate(key)}" is not a valid attribute name`);
      if (value === null) continue;
      if (typeof value === "string") extensions[key] = checkString(key, value);
      else if (typeof value === "boolean") extensions[key] = value;
      else if (
        typeof value === "number" &&
        Number.isInteger(value) &&
        value >= -2147483648 &&
        value <= 2147483647
      ) {
        extensions[key] = value;
      } else throw invalid(`extension "${key}" must be a string, a boolean or a 32-bit integer`);
    }
    const contentType = stringOf(object, "datacontenttype");
    const datacontenttype =
      contentType === undefined ? undefined : checkMediaType("datacontenttype", contentType);
    if (object.data !== undefined && object.data_base64 !== undefined) {
      throw invalid("an event cannot have both data and data_base64");
    }
    const data = structuredData(object, datacontenttype);
    const read = {
      id: stringOf(object, "id"),
      source: stringOf(object, "source"),
      type: stringOf(object, "type"),
      subject: stringOf(object, "subject"),
      time: stringOf(object, "time"),
      dataschema: stringOf(object, "dataschema"),
    };
    return toIncomingEvent(read, datacontenttype, extensions, data);
  } catch (error) {
    if (error instanceof HostError && at) throw new HostError(error.problem, error.detail + at);
    throw error;
  }
}

function structuredData(
  object: Record<string, unknown>,
  contentType: string | undefined,
): { kind: DataKind; value: unknown } {
  if (object.data_base64 !== undefined && object.data_base64 !== null) {
    const encoded = object.data_base64;
    if (typeof encoded !== "string" || encoded.length % 4 !== 0 || !BASE64.test(encoded)) {
      throw invalid("data_base64 must be a base64 string");
    }
    return decodeBody(Buffer.from(encoded, "base64"), contentType);
  }
  if (!Object.hasOwn(object, "data")) return { kind: "none", value: undefined };
  if (contentType === undefined || isJsonMediaType(contentType)) return { kind: "json", value: object.data };
  if (typeof object.data === "string") return { kind: "text", value: object.data };
  return { kind: "json", value: object.data };
}

/** A string attribute of the JSON format; `null` and absent are both "not set" (`undefined`). */
function stringOf(object: Record<string, unknown>, name: string): string | undefined {
  const value = object[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalid(`attribute "${name}" must be a string`);
  return value;
}

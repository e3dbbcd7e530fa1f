import { isUtf8 } from "node:buffer";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import { invalid, truncate } from "./attributes.js";
import type { DataKind } from "./event.js";
import { checkCharset, essence, isJsonMediaType, parseJson } from "./json.js";

/** What both modes share: the attribute limit, the specversion check and the decoding of a body as data. */
export const MAX_ATTRIBUTES = 64;

export function checkSpecVersion(value: unknown): void {
  if (value === undefined || value === null) throw invalid('attribute "specversion" is required');
  if (value !== "1.0") {
    throw invalid(
      `specversion ${typeof value === "string" ? `"${truncate(value)}"` : typeof value} is not supported; send "1.0"`,
    );
  }
}

export function decodeBody(
  body: Buffer,
  contentType: string | undefined,
): { kind: DataKind; value: unknown } {
  if (body.length === 0) return { kind: "none", value: undefined };
  // The usual content type is checked without the media-type and charset patterns.
  if (contentType === undefined || contentType === "application/json" || isJsonMediaType(contentType)) {
    if (contentType !== undefined && contentType !== "application/json") checkCharset(contentType);
    return { kind: "json", value: parseJson(utf8(body), "the event data") };
  }
  if (essence(contentType).startsWith("text/")) return { kind: "text", value: utf8(body) };
  return { kind: "binary", value: body };
}

export function utf8(body: Buffer): string {
  if (!isUtf8(body)) throw new HostError(Problem.invalidJson, "the body is not valid UTF-8");
  return body.toString("utf8");
}

import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";

/**
 * Parses a JSON body strictly. `JSON.parse` itself never pollutes prototypes, but a `__proto__`
 * key in the data would reach handlers that copy it with `Object.assign` or index with it, so it
 * is refused. The reviver that looks for it runs only when the text could contain one.
 */
export function parseJson(text: string, what = "body"): unknown {
  // Every level takes two characters, so a short text cannot nest too deep: skip the scan.
  if (text.length > 2 * MAX_DEPTH && nestingDepth(text) > MAX_DEPTH) {
    throw new HostError(Problem.invalidJson, `${what} nests deeper than ${MAX_DEPTH} levels`);
  }
  try {
    if (text.includes("__proto__") || text.includes("\\u")) return JSON.parse(text, refuseProto);
    return JSON.parse(text);
  } catch (error) {
    if (error instanceof HostError) throw error;
    throw new HostError(Problem.invalidJson, `${what} is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * JSON nested deeper than this is refused: `JSON.parse` copes with any depth, but the
 * recursive code that meets the value later (`JSON.stringify` of a reply, validators) overflows
 * the stack, which would turn hostile input into a 500.
 */
export const MAX_DEPTH = 512;

/** The deepest nesting of `[` and `{` outside strings; stops counting once past the limit. */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > MAX_DEPTH) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

function refuseProto(this: unknown, key: string, value: unknown): unknown {
  if (key === "__proto__") {
    throw new HostError(Problem.invalidJson, 'JSON objects must not have a "__proto__" key');
  }
  return value;
}

const JSON_TYPE = /^(?:application|text)\/(?:[A-Za-z0-9!#$&^_.-]+\+)?json$/i;

/** The media type without parameters, lower-cased: `Application/JSON; charset=UTF-8` → `application/json`. */
export function essence(contentType: string): string {
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** `application/json`, `text/json` and every `*\/*+json`. */
export function isJsonMediaType(contentType: string): boolean {
  return JSON_TYPE.test(essence(contentType));
}

/** Rejects a `charset` other than UTF-8 (JSON is UTF-8 by definition, RFC 8259). */
export function checkCharset(contentType: string): void {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  if (match && match[1]!.toLowerCase() !== "utf-8" && match[1]!.toLowerCase() !== "utf8") {
    throw new HostError(Problem.unsupportedMediaType, `charset ${match[1]} is not supported; send UTF-8`);
  }
}

import { invalid } from "./attributes.js";

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });
const LONE_PERCENT = /%(?![0-9A-Fa-f]{2})/g;

/**
 * Decodes a binary-mode `ce-` header value (CloudEvents HTTP binding 3.1.3.2): unquote an
 * RFC 7230 quoted-string, then one round of percent-decoding, rejecting invalid UTF-8. Many
 * senders (sdk-go, which Knative's brokers use, and sdk-javascript) do not encode at all, so a
 * `%` not followed by two hex digits is kept literally and raw UTF-8 bytes are accepted.
 */
export function decodeHeaderValue(name: string, raw: string): string {
  let value = raw;
  if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) {
    value = value.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  let high = false;
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0x7e) {
      high = true;
      break;
    }
  }
  if (high) {
    // Node reads header bytes as latin1: turn them back into bytes and decode them as UTF-8.
    try {
      value = fatalUtf8.decode(Buffer.from(value, "latin1"));
    } catch {
      throw invalid(`header ce-${name} is not valid UTF-8`);
    }
  }
  if (value.includes("%")) {
    try {
      value = decodeURIComponent(value.replace(LONE_PERCENT, "%25"));
    } catch {
      throw invalid(`header ce-${name} has a percent-encoding that is not valid UTF-8`);
    }
  }
  return value;
}

/**
 * Encodes a header value as the binding asks: space, `"`, `%` and everything outside
 * U+0021–U+007E percent-encoded as UTF-8.
 */
export function encodeHeaderValue(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c > 0x7e || c === 0x22 || c === 0x25) return slowEncode(value);
  }
  return value;
}

function slowEncode(value: string): string {
  let out = "";
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (c > 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x25) out += ch;
    else
      for (const byte of Buffer.from(ch, "utf8"))
        out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";

/** Extension names: lower-case ASCII letters and digits (CloudEvents 1.0 "Attribute Naming Convention"). */
const NAME = /^[a-z0-9]{1,64}$/;
// C0 and C1 controls and DEL are not allowed in CloudEvents strings.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const URI_CHARS = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
// RFC 2046 / RFC 6838: type "/" subtype, then optional parameters.
const MEDIA_TYPE =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(?:\s*;.*)?$/s;

export function invalid(detail: string): HostError {
  return new HostError(Problem.invalidCloudEvent, detail);
}

export function isValidExtensionName(name: string): boolean {
  return NAME.test(name);
}

/** A CloudEvents String: no control characters, no lone surrogates. */
export function checkString(name: string, value: string): string {
  if (value.length === 0) throw invalid(`attribute "${name}" must not be empty`);
  if (CONTROL.test(value) || !value.isWellFormed()) {
    throw invalid(`attribute "${name}" contains control characters or invalid Unicode`);
  }
  return value;
}

export function checkUriReference(name: string, value: string): string {
  checkString(name, value);
  if (!URI_CHARS.test(value)) throw invalid(`attribute "${name}" must be a URI-reference (RFC 3986)`);
  return value;
}

export function checkAbsoluteUri(name: string, value: string): string {
  checkUriReference(name, value);
  if (!SCHEME.test(value)) throw invalid(`attribute "${name}" must be an absolute URI`);
  return value;
}

export function checkTime(value: string): string {
  const m = TIME.exec(value);
  if (!m) throw invalid(`attribute "time" must be an RFC 3339 timestamp, got "${truncate(value)}"`);
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i])) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const oh = Number(m[8] ?? 0);
  const om = Number(m[9] ?? 0);
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  const ok =
    mo >= 1 && mo <= 12 && d >= 1 && d <= days && h <= 23 && mi <= 59 && s <= 60 && oh <= 23 && om <= 59;
  if (!ok) throw invalid(`attribute "time" is out of range: "${truncate(value)}"`);
  return value;
}

export function checkMediaType(name: string, value: string): string {
  checkString(name, value);
  if (!MEDIA_TYPE.test(value))
    throw invalid(`attribute "${name}" must be a media type such as application/json`);
  return value;
}

/** Shortens a value for an error message, so a 50,000-character attribute is not echoed back. */
export function truncate(value: string, max = 64): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

import type { SettingSpec } from "./setting.js";

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const UNITS_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
const TRUE = ["true", "on", "1", "yes"];
const FALSE = ["false", "off", "0", "no"];

/** The value of `raw` for `setting`; throws an `Error` whose message says what it must be. */
export function parseValue(setting: SettingSpec, raw: string): unknown {
  switch (setting.kind) {
    case "string":
      return raw;
    case "url":
      return httpUrl(raw);
    case "json":
      return jsonObject(raw);
    case "pem":
      if (!raw.includes("-----BEGIN CERTIFICATE-----"))
        throw new Error("must hold PEM certificates (-----BEGIN CERTIFICATE-----)");
      return raw;
    case "port": {
      const n = integer(raw);
      if (n > 65535) throw new Error("must be a port number (0-65535)");
      return n;
    }
    case "integer":
      return integer(raw);
    case "duration":
      return withUnit(raw, UNITS_MS, "a duration such as 500ms, 30s, 5m or 24h");
    case "seconds": {
      const n = Number(raw);
      if (!(Number.isFinite(n) && n > 0)) throw new Error("must be a number of seconds (more than 0)");
      return Math.round(n * 1000);
    }
    case "size":
      return withUnit(raw, UNITS_BYTES, "a size such as 512kb or 1mb");
    case "boolean": {
      const v = raw.toLowerCase();
      if (TRUE.includes(v)) return true;
      if (FALSE.includes(v)) return false;
      throw new Error("must be true or false");
    }
    case "enum":
      if (!setting.values!.includes(raw)) throw new Error(`must be one of ${setting.values!.join(", ")}`);
      return raw;
    case "list":
      return raw
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    case "prefix":
      throw new Error("a prefix row is read from every variable it names, not one value");
  }
}

function integer(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new Error("must be a whole number");
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error("is too large");
  return n;
}

function withUnit(raw: string, units: Record<string, number>, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw);
  const unit = m?.[2]?.toLowerCase() || Object.keys(units)[0]!;
  const factor = units[unit];
  if (!m || factor === undefined) throw new Error(`must be ${what}`);
  return Math.round(Number(m[1]) * factor);
}

function httpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error("must be an absolute http(s) URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("must be an http(s) URL");
  return url.href;
}

function jsonObject(raw: string): string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error("must be a JSON object");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error("must be a JSON object");
  return raw;
}

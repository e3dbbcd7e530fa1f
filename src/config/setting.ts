/**
 * What one row of the settings table says: the environment variable, the command-line flag (if
 * any), the kind of value, its default (as it would be written in the environment; `undefined`:
 * unset) and what it does. The value type of each row follows from its kind (`SettingValue`).
 */
export interface SettingSpec {
  readonly env: string;
  readonly flag?: string;
  readonly kind: SettingKind;
  /** The allowed values of an `enum`. */
  readonly values?: readonly string[];
  readonly default: string | undefined;
  readonly doc: string;
}

/**
 * - `port`: 0–65535; `integer`: a whole number ≥ 0; `duration`: `500ms`, `30s`, `5m`, `24h`
 *   (milliseconds; a bare number is milliseconds); `seconds`: a positive number of seconds, as
 *   Knative writes them (milliseconds); `size`: `512kb`, `1mb` (bytes);
 * - `boolean`: `true`/`false`/`on`/`off`/`1`/`0`/`yes`/`no`; `enum`: one of `values`;
 * - `list`: comma-separated; `url`: an absolute http(s) URL; `json`: a JSON object; `pem`: PEM
 *   certificates; `string`: anything;
 * - `prefix`: every variable whose name starts with `env` minus its `*` (e.g. `OTEL_*`), passed
 *   through as they are (`{}` when none is set).
 */
export type SettingKind =
  | "string"
  | "url"
  | "json"
  | "pem"
  | "port"
  | "integer"
  | "duration"
  | "seconds"
  | "size"
  | "boolean"
  | "enum"
  | "list"
  | "prefix";

type NumberKind = "port" | "integer" | "duration" | "seconds" | "size";
type StringKind = "string" | "url" | "json" | "pem";

/** The type a row's value has once parsed. */
export type SettingValue<S extends SettingSpec> = S["kind"] extends "prefix"
  ? Readonly<Record<string, string>>
  : S["default"] extends string
    ? BaseValue<S>
    : BaseValue<S> | undefined;

type BaseValue<S extends SettingSpec> = S["kind"] extends NumberKind
  ? number
  : S["kind"] extends "boolean"
    ? boolean
    : S["kind"] extends "list"
      ? readonly string[]
      : S["kind"] extends "enum"
        ? S["values"] extends readonly (infer V)[]
          ? V
          : never
        : S["kind"] extends StringKind
          ? string
          : never;

/** The parsed values of a table of settings, by key. */
export type SettingValues<T extends Readonly<Record<string, SettingSpec>>> = {
  readonly [K in keyof T]: SettingValue<T[K]>;
};

/** Where the event's data came from and how it was read. */
export type DataKind = "none" | "json" | "text" | "binary";

/** A CloudEvent 1.0 as the host received and validated it. */
export interface IncomingEvent {
  readonly specversion: "1.0";
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject: string | undefined;
  readonly time: string | undefined;
  readonly datacontenttype: string | undefined;
  readonly dataschema: string | undefined;
  /** Extension attributes by name (`traceparent`, `partitionkey`, …). */
  readonly extensions: Readonly<Record<string, string | number | boolean>>;
  readonly dataKind: DataKind;
  /** Parsed JSON, a string for text, a Buffer for other media types, `undefined` when absent. */
  readonly data: unknown;
}

/** The CloudEvents 1.0 context attributes that are not extensions. */
export const CORE_ATTRIBUTES: ReadonlySet<string> = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "subject",
  "time",
  "datacontenttype",
  "dataschema",
]);

/** Top-level members of the JSON event format that are not extensions: the core attributes and the data. */
export const JSON_FORMAT_MEMBERS: ReadonlySet<string> = new Set([...CORE_ATTRIBUTES, "data", "data_base64"]);

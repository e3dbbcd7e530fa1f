import { encodeHeaderValue } from "./header-value.js";

/** A CloudEvent the host sends: a command's reply, or a published domain event. */
export interface OutgoingEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject?: string | undefined;
  readonly time: string;
  /** Extension attributes, e.g. `entityversion` and `traceparent`. */
  readonly extensions: Readonly<Record<string, string | number | boolean>>;
  /** JSON data; `undefined` sends no data. */
  readonly data: unknown;
}

/** Headers and body of a binary-mode message (HTTP binding 3.1). */
export function toBinary(event: OutgoingEvent): { headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = {
    "ce-specversion": "1.0",
    "ce-id": encodeHeaderValue(event.id),
    "ce-source": encodeHeaderValue(event.source),
    "ce-type": encodeHeaderValue(event.type),
    "ce-time": event.time,
  };
  if (event.subject !== undefined) headers["ce-subject"] = encodeHeaderValue(event.subject);
  for (const name in event.extensions)
    headers[`ce-${name}`] = encodeHeaderValue(String(event.extensions[name]));
  if (event.data === undefined) return { headers, body: "" };
  headers["content-type"] = "application/json";
  return { headers, body: JSON.stringify(event.data) };
}

/** The event in the JSON format (structured mode and batches). */
export function toStructured(event: OutgoingEvent): Record<string, unknown> {
  const json: Record<string, unknown> = {
    specversion: "1.0",
    id: event.id,
    source: event.source,
    type: event.type,
    time: event.time,
  };
  if (event.subject !== undefined) json.subject = event.subject;
  for (const name in event.extensions) json[name] = event.extensions[name];
  if (event.data !== undefined) {
    json.datacontenttype = "application/json";
    json.data = event.data;
  }
  return json;
}

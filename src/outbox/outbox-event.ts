import { encodeHeaderValue } from "../cloudevents/header-value.js";
import type { OutgoingEvent } from "../cloudevents/reply.js";
import { ENTITY_VERSION_EXTENSION } from "../publish/ce-overrides.js";
import type { SinkMessage } from "../publish/sink-client.js";
import type { OutboxMessage } from "../store/state-store.js";
import type { OutboxEntry } from "./source.js";

/** Statuses worth retrying as they are: the sink or the way to it may get better. */
export function retryable(status: number): boolean {
  return status >= 500 || status === 404 || status === 408 || status === 409 || status === 429;
}

/** The CloudEvent of an outbox entry, as `K_SINK` receives it. */
export function toCloudEvent(
  entry: OutboxEntry,
  service: string,
  overrides: Readonly<Record<string, string>> = {},
): OutgoingEvent {
  const m = entry.message;
  return {
    id: m.id,
    source: `/${service}/${m.entityType}`,
    type: m.type,
    subject: m.entityId,
    time: m.time,
    extensions: {
      ...overrides,
      [ENTITY_VERSION_EXTENSION]: m.version,
      ...(m.traceparent === undefined ? {} : { traceparent: m.traceparent }),
    },
    data: m.data,
  };
}

/**
 * The binary-mode POST of outbox messages: `toBinary(toCloudEvent(…))` plus the `traceparent`
 * header, built in one step on the relay's hot path (one per published event), with the
 * headers of `K_CE_OVERRIDES` and each entity type's `ce-source` worked out once.
 */
export class SinkMessageEncoder {
  readonly #service: string;
  readonly #overrides: ReadonlyArray<readonly [string, string]>;
  readonly #sources = new Map<string, string>();

  constructor(service: string, overrides: Readonly<Record<string, string>> = {}) {
    this.#service = service;
    this.#overrides = Object.entries(overrides).map(([name, value]) => [
      `ce-${name}`,
      encodeHeaderValue(value),
    ]);
  }

  encode(m: OutboxMessage): SinkMessage {
    let source = this.#sources.get(m.entityType);
    if (source === undefined) {
      source = encodeHeaderValue(`/${this.#service}/${m.entityType}`);
      this.#sources.set(m.entityType, source);
    }
    const headers: Record<string, string> = {
      "ce-specversion": "1.0",
      "ce-id": encodeHeaderValue(m.id),
      "ce-source": source,
      "ce-type": encodeHeaderValue(m.type),
      "ce-time": m.time,
      "ce-subject": encodeHeaderValue(m.entityId),
    };
    for (const [name, value] of this.#overrides) headers[name] = value;
    headers[`ce-${ENTITY_VERSION_EXTENSION}`] = String(m.version);
    if (m.traceparent !== undefined) {
      headers["ce-traceparent"] = encodeHeaderValue(m.traceparent);
      headers.traceparent = m.traceparent;
    }
    if (m.data === undefined) return { headers, body: "" };
    headers["content-type"] = "application/json";
    return { headers, body: JSON.stringify(m.data) };
  }
}

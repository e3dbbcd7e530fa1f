import type { OutgoingEvent } from "../cloudevents/reply.js";
import { ENTITY_VERSION_EXTENSION } from "../publish/ce-overrides.js";
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

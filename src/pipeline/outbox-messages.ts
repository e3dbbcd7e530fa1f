import type { DomainEvent, EntityModel } from "../entity/model.js";
import type { OutboxMessage } from "../store/state-store.js";
import type { Job } from "./types.js";

/** The last commit time written, as ISO text: commands committed in the same millisecond share it. */
let lastMs = 0;
let lastIso = "";

/** Now as ISO text, formatted once per millisecond (`toISOString` is a third of the host's outbox work per command). */
function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

/**
 * The outbox messages of the events one command decided, `before` being the entity's version
 * before them; `undefined` when the entity publishes none of them (the common case costs one
 * property read). A throwing `publish` function fails the command like a throwing handler.
 */
export function outboxMessages(
  model: EntityModel,
  job: Job,
  before: number,
  events: readonly DomainEvent[],
): OutboxMessage[] | undefined {
  const { publish } = model;
  if (publish === undefined || events.length === 0) return undefined;
  const { entityId, trace } = job.request;
  const traceparent =
    trace === undefined ? undefined : `00-${trace.traceId}-${trace.spanId}-${trace.sampled ? "01" : "00"}`;
  const time = isoNow();
  let out: OutboxMessage[] | undefined;
  events.forEach((event, i) => {
    const shown = publish(event);
    if (shown === undefined) return;
    const version = before + i + 1;
    (out ??= []).push({
      id: `${model.name}/${entityId}/${version}`,
      entityType: model.name,
      entityId,
      version,
      type: `${model.typePrefix}.${model.name}.${shown.type}`,
      data: shown.data,
      time,
      ...(traceparent === undefined ? {} : { traceparent }),
    });
  });
  return out;
}

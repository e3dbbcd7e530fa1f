import type { ReplicatedModel } from "../entity/replicated/model.js";
import type { ReplicatedOutboxDraft } from "../store/replicated/codec.js";
import type { TraceHandle } from "./observer.js";

/**
 * The events an accepted replicated command publishes, as drafts the apply script completes
 * with the command's sequence (ids `<entity>/<id>/<sequence>[/<n>]`); `undefined` when the
 * entity publishes nothing (one property read) or nothing for this command. `reply` is the
 * reply when it was known before the apply. A throwing `publish` fails the command like a
 * throwing handler: nothing is applied.
 */
export function replicatedDrafts(
  model: ReplicatedModel,
  command: string,
  data: unknown,
  reply: unknown,
  trace: TraceHandle | undefined,
): ReplicatedOutboxDraft[] | undefined {
  const { publish } = model;
  if (publish === undefined) return undefined;
  const events = publish(command, data, reply);
  if (events === undefined || events.length === 0) return undefined;
  const time = new Date().toISOString();
  const traceparent =
    trace === undefined ? undefined : `00-${trace.traceId}-${trace.spanId}-${trace.sampled ? "01" : "00"}`;
  return events.map((event) => ({
    type: `${model.typePrefix}.${model.name}.${event.type}`,
    data: event.data,
    time,
    ...(traceparent === undefined ? {} : { traceparent }),
  }));
}

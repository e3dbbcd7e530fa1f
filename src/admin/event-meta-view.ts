import type { CommandMeta } from "../store/event-meta.js";
import type { LoggedEvent } from "../store/introspection.js";

/** An event as the admin API shows it: with its command's metadata (null where not recorded). */
export interface EventView {
  readonly version: number;
  readonly type: string;
  readonly data: unknown;
  /** When its command was committed (ISO 8601). */
  readonly time: string | null;
  /** The CloudEvent that carried its command. */
  readonly id: string | null;
  readonly source: string | null;
  readonly traceId: string | null;
  /** The version of its command's first event (the events of one command share their metadata). */
  readonly command: number | null;
}

/**
 * Events with their metadata: a command's first event carries it, its further events (`"same"`)
 * take it from there. A further event whose first event is outside `events` shows nulls.
 */
export function eventMetaView(events: readonly LoggedEvent[]): EventView[] {
  let current: { meta: CommandMeta; version: number } | undefined;
  let previous = 0;
  return events.map((e) => {
    if (e.meta !== "same") current = e.meta === undefined ? undefined : { meta: e.meta, version: e.version };
    else if (e.version !== previous + 1) current = undefined;
    previous = e.version;
    const meta = current?.meta;
    return {
      version: e.version,
      type: e.type,
      data: e.data,
      time: meta === undefined ? null : new Date(meta.time).toISOString(),
      id: meta?.eventId ?? null,
      source: meta?.source ?? null,
      traceId: meta?.traceId ?? null,
      command: current?.version ?? null,
    };
  });
}

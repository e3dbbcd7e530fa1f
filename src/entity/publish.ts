import type { DomainEvent } from "./model.js";

/** A domain event as the world sees it: its name (the last segment of the CloudEvent type) and data. */
export interface PublicEvent {
  readonly type: string;
  readonly data: unknown;
}

/**
 * What an entity publishes to `K_SINK` through the outbox: `true` (every event), the names of
 * the events to publish, or a function mapping a domain event to the public event (`undefined`:
 * not published), so that internal state does not leak. Absent: nothing is published, and the
 * entity's appends carry no outbox at all.
 */
export type PublishRule =
  | boolean
  | readonly string[]
  | ((event: { readonly type: string; readonly data: unknown }) => PublicEvent | undefined);

/** Value entities publish each new state under this name. */
export const PUBLISHED_STATE = "state";

/** The stored type of a value entity's update (see model.ts `VALUE_UPDATED`). */
const VALUE_UPDATED = "$state";

/** `rule` as a function from a domain event to its public form; `undefined` when nothing is published. */
export function compilePublish(
  rule: PublishRule | undefined,
): ((event: DomainEvent) => PublicEvent | undefined) | undefined {
  if (rule === undefined || rule === false) return undefined;
  const name = (event: DomainEvent) => (event.type === VALUE_UPDATED ? PUBLISHED_STATE : event.type);
  if (rule === true) return (event) => ({ type: name(event), data: event.data });
  if (typeof rule === "function") {
    return (event) => {
      const out = rule({ type: name(event), data: event.data });
      if (out === undefined) return undefined;
      if (typeof out.type !== "string" || !/^[a-zA-Z][a-zA-Z0-9_-]*$/.test(out.type)) {
        throw new TypeError(
          `publish: the public event's type must be a name, got ${JSON.stringify(out.type)}`,
        );
      }
      return out;
    };
  }
  if (!Array.isArray(rule)) throw new TypeError("publish must be true, a list of event names or a function");
  const names = new Set(rule);
  return (event) => (names.has(name(event)) ? { type: name(event), data: event.data } : undefined);
}

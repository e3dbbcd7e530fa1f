import type { Component } from "../entity/define.js";
import type { Logger } from "../observability/logger.js";

/** The names of the entities that publish (declare `publish`). */
export function publishingNames(components: readonly Component[]): string[] {
  return components
    .filter((c) => c.kind !== "action" && c.publish !== undefined && c.publish !== false)
    .map((c) => c.name);
}

/** True when some entity publishes. */
export function publishes(components: readonly Component[]): boolean {
  return publishingNames(components).length > 0;
}

/**
 * The components as a host serves them: without `K_SINK` nothing is published, so no entity's
 * appends carry an outbox (it would grow with no relay to empty it), and the host says so once.
 */
export function servedComponents(
  sink: string | undefined,
  components: readonly Component[],
  logger: Logger,
): readonly Component[] {
  if (sink !== undefined) return components;
  const names = publishingNames(components);
  if (names.length === 0) return components;
  logger.info("K_SINK is not set: publishing is off, committed events are not written to the outbox", {
    entities: names,
  });
  return components.map((c) =>
    c.kind !== "action" && c.publish !== undefined ? { ...c, publish: undefined } : c,
  );
}

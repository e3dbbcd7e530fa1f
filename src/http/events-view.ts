import type { IncomingMessage, ServerResponse } from "node:http";
import { truncate } from "../cloudevents/attributes.js";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { Registry } from "../pipeline/registry.js";
import type { StateStore } from "../store/state-store.js";
import { sendJson } from "./send-json.js";

export interface EventsViewOptions {
  readonly registry: Registry;
  /** Reads stored events (the store's `readEvents`). */
  readonly readEvents: StateStore["readEvents"];
}

/**
 * `GET /{entity}/{id}/events?from=1&to=N`: an entity's stored events with their versions (at
 * most 10,000 at a time). An operator view: the admin port mounts it (route params
 * `[entity, id]`); the public port only with `KNSTATE_PUBLIC_EVENTS=true`.
 */
export function createEventsView(
  options: EventsViewOptions,
): (req: IncomingMessage, res: ServerResponse, params: readonly string[]) => Promise<void> {
  const { registry, readEvents } = options;
  return async (req, res, [entity, id]) => {
    const model = registry.entity(entity!);
    if (model === undefined) throw new HostError(Problem.notFound, `no entity named "${truncate(entity!)}"`);
    if (model.kind === "replicated") {
      throw new HostError(
        Problem.notFound,
        `${model.name} is a replicated entity: it keeps values, not events`,
      );
    }
    const query = new URLSearchParams((req.url ?? "").split("?")[1] ?? "");
    const from = queryInt(query.getAll("from"), 1);
    const to = queryInt(query.getAll("to"), from + 999);
    if (to - from > 9999)
      throw new HostError(Problem.invalidRequest, "ask for at most 10,000 events at a time");
    const events = await readEvents({ entityType: model.name, entityId: id! }, from, to);
    sendJson(res, 200, { events });
  };
}

function queryInt(values: readonly string[], fallback: number): number {
  if (values.length === 0) return fallback;
  if (values.length > 1 || !/^\d{1,15}$/.test(values[0]!))
    throw new HostError(Problem.invalidRequest, "from and to must be whole numbers");
  return Number(values[0]);
}

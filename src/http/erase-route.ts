import type { IncomingMessage, ServerResponse } from "node:http";
import { truncate } from "../cloudevents/attributes.js";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { Registry } from "../pipeline/registry.js";
import type { StateStore } from "../store/state-store.js";
import { sendJson } from "./send-json.js";

export interface EraseOptions {
  readonly registry: Registry;
  readonly store: StateStore;
}

/** What an erasure did: `erased` false when nothing was stored; `version` the entity's version now. */
export interface Erasure {
  readonly entity: string;
  readonly id: string;
  readonly erased: boolean;
  readonly version: number;
}

/**
 * Erases one entity's data (right to erasure): its events, snapshot and dedup records, in one
 * atomic store operation (`StateStore.delete`). The next command starts from the initial state;
 * a replica that still holds the erased state in its cache finds a newer version and reloads.
 * Not erased: events already published to a sink or Broker, and copies in backups.
 */
export async function eraseEntity(options: EraseOptions, entity: string, id: string): Promise<Erasure> {
  const model = options.registry.entity(entity);
  if (model === undefined) throw new HostError(Problem.notFound, `no entity named "${truncate(entity)}"`);
  const { erased, version } = await options.store.delete({ entityType: model.name, entityId: id });
  return { entity: model.name, id, erased, version };
}

/**
 * `DELETE /{entity}/{id}` for the admin port: erases the entity and answers
 * `{"entity", "id", "erased", "version"}` (200 whether or not anything was stored).
 */
export function createEraseRoute(
  options: EraseOptions,
): (req: IncomingMessage, res: ServerResponse, params: readonly string[]) => Promise<void> {
  return async (_req, res, [entity, id]) => {
    sendJson(res, 200, await eraseEntity(options, entity!, id!));
  };
}

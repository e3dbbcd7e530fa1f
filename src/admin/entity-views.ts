import { truncate } from "../cloudevents/attributes.js";
import type { EntityModel } from "../entity/model.js";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { AnyEntityModel } from "../pipeline/registry.js";
import type { StoreIntrospection } from "../store/introspection.js";
import type { EntityKey, StateStore } from "../store/state-store.js";
import { eventMetaView } from "./event-meta-view.js";

/** The largest version `?at=` folds to (events read in one go). */
export const MAX_FOLD = 100_000;

/** What the admin reads an entity through. */
export interface EntityReader {
  readonly store: StateStore & StoreIntrospection;
  /** The current state and version (the pipeline's read path, cache-aware). */
  read(model: AnyEntityModel, id: string): Promise<{ state: unknown; version: number }>;
}

/** The entity type named `name`, or the 404 problem. */
export function findModel(entities: readonly AnyEntityModel[], name: string): AnyEntityModel {
  const model = entities.find((m) => m.name === name);
  if (model === undefined) throw new HostError(Problem.notFound, `no entity type "${truncate(name)}"`);
  return model;
}

/** True for the kinds that keep an event log (event-sourced entities). */
export function keepsEvents(model: AnyEntityModel): model is EntityModel {
  return model.kind !== "replicated" && model.logEvents;
}

export function keyOf(model: AnyEntityModel, id: string): EntityKey {
  return { entityType: model.name, entityId: id };
}

/** The current state and version; an entity with nothing stored is a 404. */
export async function currentState(reader: EntityReader, model: AnyEntityModel, id: string) {
  const { state, version } = await reader.read(model, id);
  if (version === 0) throw new HostError(Problem.notFound, `no ${model.name} with id "${truncate(id)}"`);
  return { state, version };
}

/**
 * "Time travel": the state after the `at`-th event, folded from the initial state over the
 * stored events 1..at. Value entities keep no history, so only their current version is known.
 */
export async function stateAt(reader: EntityReader, model: AnyEntityModel, id: string, at: number) {
  const current = await currentState(reader, model, id);
  if (at > current.version) {
    throw new HostError(
      Problem.invalidRequest,
      `${model.name}/${truncate(id)} has ${current.version} version(s); at must be from 0 to ${current.version}`,
    );
  }
  if (at === current.version) return current;
  if (!keepsEvents(model)) {
    throw new HostError(
      Problem.invalidRequest,
      `${model.name} is a ${model.kind} entity: it keeps only its latest state (version ${current.version})`,
    );
  }
  if (at > MAX_FOLD)
    throw new HostError(Problem.invalidRequest, `at is folded up to ${MAX_FOLD} events at most`);
  return { state: await foldEvents(reader.store, model, id, at), version: at };
}

/** The initial state folded over the stored events 1..at (all of them must be stored). */
export async function foldEvents(
  store: StateStore,
  model: EntityModel,
  id: string,
  at: number,
): Promise<unknown> {
  let state = model.initialState(id);
  if (at === 0) return state;
  const events = await store.readEvents(keyOf(model, id), 1, at);
  if (events.length !== at || events[0]?.version !== 1) {
    throw new HostError(Problem.notAvailable, `the events up to ${at} are not all stored`);
  }
  for (const event of events) state = model.apply(state, { type: event.type, data: event.data });
  return state;
}

/**
 * A page of stored events from `from` (1-based): version, type, data, and what was recorded of
 * the command that appended each (time, CloudEvent id and source, trace id; null when unknown).
 */
export async function eventsPage(
  reader: EntityReader,
  model: AnyEntityModel,
  id: string,
  from: number,
  limit: number,
) {
  const { version } = await currentState(reader, model, id);
  if (!keepsEvents(model)) return { events: [], next: null, version };
  const to = Math.min(version, from + limit - 1);
  // A command's metadata is stored with its first event: read back a few events to find it.
  const start = Math.max(1, from - LOOK_BACK);
  const { store } = reader;
  const key = keyOf(model, id);
  const stored =
    to < from ? [] : await (store.readEventLog?.(key, start, to) ?? store.readEvents(key, start, to));
  const events = eventMetaView(stored).filter((e) => e.version >= from);
  return { events, next: to < version ? to + 1 : null, version };
}

/** Events read before a page's first one to find the metadata of the command it belongs to. */
const LOOK_BACK = 16;

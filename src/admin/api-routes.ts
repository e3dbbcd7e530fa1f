import { truncate } from "../cloudevents/attributes.js";
import type { EntityModel } from "../entity/model.js";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { Router } from "../http/router.js";
import { BadCursor, type StoreIntrospection } from "../store/introspection.js";
import type { StateStore } from "../store/state-store.js";
import { currentState, eventsPage, keyOf, stateAt, type EntityReader } from "./entity-views.js";
import { intParam, queryOf, sendJson, stringParam } from "./query.js";

export type AdminStore = StateStore & StoreIntrospection;

export interface AdminApiOptions extends EntityReader {
  readonly store: AdminStore;
  readonly entities: () => readonly EntityModel[];
}

/** Largest page of ids or events. */
export const MAX_PAGE = 1000;

/**
 * The read side of the admin API (docs/admin.md): types, ids of a type (newest first, paged),
 * one entity now or at version N, its events, dedup records, timers; the outbox.
 */
export function addAdminApi(router: Router, options: AdminApiOptions): void {
  const { store } = options;
  const modelOf = (name: string): EntityModel => {
    const model = options.entities().find((m) => m.name === name);
    if (model === undefined) throw new HostError(Problem.notFound, `no entity type "${truncate(name)}"`);
    return model;
  };

  router.add("GET", "/api/types", "api", async (_req, res) => {
    const types = await Promise.all(
      options.entities().map(async (m) => ({
        type: m.name,
        kind: m.kind,
        commands: m.commandNames,
        count: (await store.countEntities?.(m.name)) ?? null,
      })),
    );
    sendJson(res, 200, { types });
  });

  router.add("GET", "/api/entities/:type", "api", async (req, res, [type]) => {
    const model = modelOf(type!);
    const query = queryOf(req);
    const limit = intParam(query, "limit", 50, 1, MAX_PAGE);
    const prefix = stringParam(query, "prefix");
    const cursor = stringParam(query, "cursor") || undefined;
    if (store.listEntities === undefined) throw notAvailable("listing entities");
    try {
      const page = await store.listEntities(model.name, { prefix, limit, cursor });
      sendJson(res, 200, { ids: page.ids, cursor: page.cursor });
    } catch (error) {
      if (error instanceof BadCursor) throw new HostError(Problem.invalidRequest, error.message);
      throw error;
    }
  });

  router.add("GET", "/api/entities/:type/:id", "api", async (req, res, [type, id]) => {
    const model = modelOf(type!);
    const at = intParam(queryOf(req), "at", undefined, 0, Number.MAX_SAFE_INTEGER);
    const view =
      at === undefined ? await currentState(options, model, id!) : await stateAt(options, model, id!, at);
    sendJson(res, 200, { state: view.state, version: view.version });
  });

  router.add("GET", "/api/entities/:type/:id/events", "api", async (req, res, [type, id]) => {
    const model = modelOf(type!);
    const query = queryOf(req);
    const from = intParam(query, "from", 1, 1, Number.MAX_SAFE_INTEGER);
    const limit = intParam(query, "limit", 100, 1, MAX_PAGE);
    sendJson(res, 200, await eventsPage(options, model, id!, from, limit));
  });

  router.add("GET", "/api/entities/:type/:id/dedup", "api", async (_req, res, [type, id]) => {
    const model = modelOf(type!);
    await currentState(options, model, id!);
    if (store.listDedup === undefined) throw notAvailable("dedup records");
    const records = await store.listDedup(keyOf(model, id!));
    sendJson(res, 200, {
      records: records.map((r) => ({
        id: r.id,
        version: r.record.version,
        replyId: r.record.replyId,
        reply: r.record.reply,
        expiresAt: r.expiresAt === undefined ? null : new Date(r.expiresAt).toISOString(),
      })),
    });
  });

  router.add("GET", "/api/entities/:type/:id/timers", "api", async (_req, res, [type, id]) => {
    const model = modelOf(type!);
    await currentState(options, model, id!);
    if (store.listTimers === undefined) throw notAvailable("timers");
    sendJson(res, 200, { timers: await store.listTimers(keyOf(model, id!)) });
  });

  router.add("GET", "/api/outbox", "api", async (_req, res) => {
    if (store.outboxInfo === undefined) throw notAvailable("the outbox");
    sendJson(res, 200, await store.outboxInfo());
  });
}

export function notAvailable(what: string): HostError {
  return new HostError(Problem.notAvailable, `${what}: not available with this store`);
}

import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { Router } from "../http/router.js";
import type { AnyEntityModel } from "../pipeline/registry.js";
import { BadCursor, type StoreIntrospection } from "../store/introspection.js";
import type { StateStore } from "../store/state-store.js";
import { currentState, eventsPage, findModel, stateAt, type EntityReader } from "./entity-views.js";
import { intParam, queryOf, sendJson, stringParam } from "./query.js";

export type AdminStore = StateStore & StoreIntrospection;

export interface AdminApiOptions extends EntityReader {
  readonly store: AdminStore;
  readonly entities: () => readonly AnyEntityModel[];
  /** What the console links to: a trace-UI URL template (`{traceId}`) and a dashboard. */
  readonly links?:
    { readonly traceUrl?: string | undefined; readonly dashboardUrl?: string | undefined } | undefined;
}

/** Largest page of ids or events. */
export const MAX_PAGE = 1000;

/**
 * The read side of the admin API (docs/admin.md): types, ids of a type (newest first, paged),
 * one entity now or at version N, its events. Dedup records, timers and replicated values are
 * in entity-extras.ts, the outbox in outbox-routes.ts.
 */
export function addAdminApi(router: Router, options: AdminApiOptions): void {
  const { store } = options;
  const modelOf = (name: string) => findModel(options.entities(), name);

  router.add("GET", "/api/console", "api", (_req, res) => {
    const links = options.links ?? {};
    sendJson(res, 200, { traceUrl: links.traceUrl ?? null, dashboardUrl: links.dashboardUrl ?? null });
    return Promise.resolve();
  });

  router.add("GET", "/api/types", "api", async (_req, res) => {
    const types = await Promise.all(
      options.entities().map(async (m) => ({
        type: m.name,
        kind: m.kind,
        commands: m.commandNames,
        count: m.kind === "replicated" ? null : ((await store.countEntities?.(m.name)) ?? null),
        listed: m.kind !== "replicated" && store.listEntities !== undefined,
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
    if (model.kind === "replicated") {
      throw notAvailable(`listing ${model.name}: replicated entities are not indexed; open one by its id`);
    }
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
}

export function notAvailable(what: string): HostError {
  return new HostError(
    Problem.notAvailable,
    what.includes(":") ? what : `${what}: not available with this store`,
  );
}

import type { Router } from "../http/router.js";
import type { ValueSpec } from "../entity/replicated/types.js";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import { notAvailable, type AdminApiOptions } from "./api-routes.js";
import { currentState, findModel, keyOf } from "./entity-views.js";
import { sendJson } from "./query.js";

/**
 * What the admin API shows of an entity beside its state and events: its live dedup records,
 * its pending timers, and (replicated entities) each declared value with its kind.
 */
export function addEntityExtras(router: Router, options: AdminApiOptions): void {
  const { store } = options;
  const modelOf = (name: string) => findModel(options.entities(), name);

  router.add("GET", "/api/entities/:type/:id/dedup", "api", async (_req, res, [type, id]) => {
    const model = modelOf(type!);
    await currentState(options, model, id!);
    if (store.listDedup === undefined || model.kind === "replicated") throw notAvailable("dedup records");
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
    if (store.timers === undefined || model.kind === "replicated") throw notAvailable("timers");
    const timers = await store.timers.listTimers(keyOf(model, id!));
    sendJson(res, 200, {
      timers: timers.map((t) => ({
        name: t.name,
        due: new Date(t.due).toISOString(),
        command: t.command,
        data: t.data,
        every: t.every ?? null,
        cron: t.cron ?? null,
      })),
    });
  });

  router.add("GET", "/api/entities/:type/:id/values", "api", async (_req, res, [type, id]) => {
    const model = modelOf(type!);
    if (model.kind !== "replicated") {
      throw new HostError(Problem.invalidRequest, `${model.name} is not a replicated entity`);
    }
    if (store.replicated === undefined) throw notAvailable("replicated values");
    const { snapshot } = await store.replicated.loadReplicated(keyOf(model, id!), []);
    if (snapshot.seq === 0) await currentState(options, model, id!);
    const values = model.values(snapshot);
    sendJson(res, 200, {
      version: snapshot.seq,
      values: Object.entries(model.specs).map(([name, spec]) => ({
        name,
        kind: kindOf(spec),
        value: values[name] ?? null,
      })),
    });
  });
}

/** `counter`, `set`, … and `map of <kind>` for a map. */
function kindOf(spec: ValueSpec): string {
  return spec.kind === "map" ? `map of ${spec.value.kind}` : spec.kind;
}

import { truncate } from "../cloudevents/attributes.js";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { Router } from "../http/router.js";
import type { Logger } from "../observability/logger.js";
import { adminUser } from "./access.js";
import { notAvailable, type AdminApiOptions } from "./api-routes.js";
import { currentState, findModel, foldEvents, keepsEvents, keyOf } from "./entity-views.js";
import { queryOf, sendJson, stringParam } from "./query.js";

/**
 * The operations of the admin API, each logged with who asked (`X-Admin-User`, else the
 * connection's peer, i.e. the port-forward):
 * - `POST /api/entities/{type}/{id}/rebuild-snapshot`: fold every stored event again and write
 *   the result as the snapshot at the current version (when nothing was appended meanwhile).
 * - `DELETE /api/entities/{type}/{id}?confirm={id}`: delete everything stored for the entity.
 */
export function addAdminOperations(router: Router, options: AdminApiOptions, logger: Logger): void {
  const { store } = options;
  const modelOf = (name: string) => findModel(options.entities(), name);

  router.add("POST", "/api/entities/:type/:id/rebuild-snapshot", "api", async (req, res, [type, id]) => {
    const model = modelOf(type!);
    if (!keepsEvents(model)) {
      throw new HostError(
        Problem.invalidRequest,
        `${model.name} is a ${model.kind} entity: its state is its snapshot`,
      );
    }
    if (store.writeSnapshot === undefined) throw notAvailable("rebuilding snapshots");
    const { version } = await currentState(options, model, id!);
    const state = await foldEvents(store, model, id!, version);
    const user = adminUser(req);
    const written = await store.writeSnapshot(keyOf(model, id!), { version, state });
    if (!written) {
      throw new HostError(
        Problem.preconditionFailed,
        `${model.name}/${truncate(id!)} moved past version ${version}; try again`,
      );
    }
    logger.info("admin: snapshot rebuilt", { user, entityType: model.name, entityId: id, version });
    sendJson(res, 200, { rebuilt: true, version });
  });

  router.add("DELETE", "/api/entities/:type/:id", "api", async (req, res, [type, id]) => {
    const model = modelOf(type!);
    if (model.kind === "replicated")
      throw notAvailable(`deleting ${model.name}: not for replicated entities`);
    if (stringParam(queryOf(req), "confirm") !== id) {
      throw new HostError(Problem.invalidRequest, "deleting needs ?confirm=<the entity id>");
    }
    const { version } = await currentState(options, model, id);
    const user = adminUser(req);
    await store.delete(keyOf(model, id));
    logger.warn("admin: entity deleted", { user, entityType: model.name, entityId: id, version });
    sendJson(res, 200, { deleted: true, version });
  });
}

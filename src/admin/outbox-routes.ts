import { truncate } from "../cloudevents/attributes.js";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { Router } from "../http/router.js";
import type { Logger } from "../observability/logger.js";
import { adminUser } from "./access.js";
import { MAX_PAGE, notAvailable, type AdminApiOptions } from "./api-routes.js";
import { intParam, queryOf, sendJson, stringParam } from "./query.js";

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * The outbox (docs/outbox.md) on the admin port:
 * - `GET /api/outbox?limit=`: messages waiting, the oldest of them, the newest dead letters;
 * - `POST /api/outbox/dead/{id}/retry`: the dead letter goes back to its entity's shard;
 * - `DELETE /api/outbox/dead/{id}?confirm={id}`: the dead letter is dropped.
 * Both actions are logged with who asked; an id not in the dead letters is a 404.
 */
export function addOutboxRoutes(router: Router, options: AdminApiOptions, logger: Logger): void {
  const outbox = () => {
    const admin = options.store.outboxAdmin;
    if (admin === undefined) throw notAvailable("the outbox");
    return admin;
  };
  const gone = (id: string) =>
    new HostError(Problem.notFound, `no dead letter "${truncate(id)}" (retried or dropped already?)`);

  router.add("GET", "/api/outbox", "api", async (req, res) => {
    const limit = intParam(queryOf(req), "limit", 100, 1, MAX_PAGE);
    const view = await outbox().info(limit);
    sendJson(res, 200, {
      length: view.length,
      oldest: iso(view.oldest),
      oldestMessage: view.oldestMessage,
      deadCount: view.deadCount,
      deadLetters: view.deadLetters.map((d) => ({ ...d, at: iso(d.at) })),
    });
  });

  router.add("POST", "/api/outbox/dead/:id/retry", "api", async (req, res, [id]) => {
    const admin = outbox();
    const user = adminUser(req);
    if (!(await admin.retry(id!))) throw gone(id!);
    logger.info("admin: dead letter sent again", { user, deadLetter: id });
    sendJson(res, 200, { retried: true, id });
  });

  router.add("DELETE", "/api/outbox/dead/:id", "api", async (req, res, [id]) => {
    const admin = outbox();
    if (stringParam(queryOf(req), "confirm") !== id) {
      throw new HostError(Problem.invalidRequest, "dropping needs ?confirm=<the dead letter's id>");
    }
    const user = adminUser(req);
    if (!(await admin.drop(id))) throw gone(id);
    logger.warn("admin: dead letter dropped", { user, deadLetter: id });
    sendJson(res, 200, { dropped: true, id });
  });
}

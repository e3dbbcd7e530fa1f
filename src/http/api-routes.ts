import { truncate } from "../cloudevents/attributes.js";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import type { Registry } from "../pipeline/registry.js";
import type { StateStore } from "../store/state-store.js";
import { readJsonBody } from "./body.js";
import { validateData } from "./command-input.js";
import { createCommandRoute } from "./command-route.js";
import type { EdgeAuth } from "./edge-auth.js";
import { createEventsView } from "./events-view.js";
import { sendJson } from "./send-json.js";
import type { Router } from "./router.js";

export interface ApiRoutesOptions {
  readonly registry: Registry;
  readonly dispatcher: Pipeline;
  /** Reads stored events (the store's `readEvents`). */
  readonly readEvents: StateStore["readEvents"];
  readonly bodyLimitBytes: number;
  readonly auth: EdgeAuth;
  /**
   * Serve `GET /{entity}/{id}/events` here too (`KNSTATE_PUBLIC_EVENTS`); the event history is an
   * operator view, served on the admin port.
   */
  readonly publicEvents: boolean;
}

/**
 * The plain HTTP/JSON API, on the router:
 * - `POST /{entity}/{id}/{command}`: run a command (`command-route.ts`).
 * - `GET /{entity}/{id}`: `{ "state": …, "version": N }` with the same ETag.
 * - `GET /{entity}/{id}/events?from=1&to=N`: the stored events (event-sourced entities), only with
 *   `publicEvents` (see `createEventsView` for the admin port).
 * - `POST /{action}/{handler}`: run a stateless action; its JSON reply, or 204.
 */
export function addApiRoutes(router: Router, options: ApiRoutesOptions): void {
  const { registry, dispatcher, bodyLimitBytes, auth } = options;
  const entityOf = (name: string) => {
    const model = registry.entity(name);
    if (model === undefined) throw new HostError(Problem.notFound, `no entity named "${truncate(name)}"`);
    return model;
  };

  router.add("POST", "/:entity/:id/:command", "api", createCommandRoute(options));

  router.add("GET", "/:entity/:id", "api", async (req, res, [entity, id]) => {
    const verified = await auth.verify("api", req.headers);
    auth.permit(verified, { kind: "read-state", entity: entity! });
    const model = entityOf(entity!);
    auth.entityRule(model, verified, { kind: "read", entityId: id! });
    const { state, version } = await dispatcher.read(model, id!);
    sendJson(res, 200, { state, version }, { etag: `"${version}"` });
  });

  if (options.publicEvents) {
    const view = createEventsView({ registry, readEvents: options.readEvents });
    router.add("GET", "/:entity/:id/events", "api", async (req, res, params) => {
      const verified = await auth.verify("api", req.headers);
      auth.permit(verified, { kind: "read-events", entity: params[0]! });
      const model = registry.entity(params[0]!);
      if (model !== undefined) auth.entityRule(model, verified, { kind: "read", entityId: params[1]! });
      await view(req, res, params);
    });
  }

  router.add("POST", "/:action/:handler", "api", async (req, res, [action, handler]) => {
    const verified = await auth.verify("api", req.headers);
    auth.permit(verified, { kind: "command", entity: action!, command: handler! });
    const route = registry.action(action!, handler!);
    if (route === undefined) {
      throw new HostError(Problem.notFound, `no action ${truncate(action!)}/${truncate(handler!)}`);
    }
    const data = validateData(
      (d) => route.validate(d),
      await readJsonBody(req, bodyLimitBytes),
      `${route.name}.${route.handler}`,
    );
    const reply = await route.run(data, { type: route.type });
    if (reply === undefined) {
      res.writeHead(204);
      res.end();
    } else sendJson(res, 200, reply);
  });
}

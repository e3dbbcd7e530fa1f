import type { ServerResponse } from "node:http";
import { truncate } from "../cloudevents/attributes.js";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { Dispatcher } from "../host/dispatcher.js";
import type { Registry } from "../host/registry.js";
import type { StateStore } from "../store/state-store.js";
import { readJsonBody } from "./body.js";
import { validateData } from "./command-input.js";
import { createCommandRoute } from "./command-route.js";
import type { Router } from "./router.js";

export interface ApiRoutesOptions {
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  /** Reads stored events (the store's `readEvents`). */
  readonly readEvents: StateStore["readEvents"];
  readonly bodyLimitBytes: number;
}

/**
 * The plain HTTP/JSON API, on the router:
 * - `POST /{entity}/{id}/{command}`: run a command (`command-route.ts`).
 * - `GET /{entity}/{id}`: `{ "state": …, "version": N }` with the same ETag.
 * - `GET /{entity}/{id}/events?from=1&to=N`: the stored events (event-sourced entities).
 * - `POST /{action}/{handler}`: run a stateless action; its JSON reply, or 204.
 */
export function addApiRoutes(router: Router, options: ApiRoutesOptions): void {
  const { registry, dispatcher, readEvents, bodyLimitBytes } = options;
  const entityOf = (name: string) => {
    const model = registry.entity(name);
    if (model === undefined) throw new HostError(Problem.notFound, `no entity named "${truncate(name)}"`);
    return model;
  };

  router.add("POST", "/:entity/:id/:command", "api", createCommandRoute(options));

  router.add("GET", "/:entity/:id", "api", async (_req, res, [entity, id]) => {
    const { state, version } = await dispatcher.read(entityOf(entity!), id!);
    sendJson(res, 200, { state, version }, { etag: `"${version}"` });
  });

  router.add("GET", "/:entity/:id/events", "api", async (req, res, [entity, id]) => {
    const model = entityOf(entity!);
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
  });

  router.add("POST", "/:action/:handler", "api", async (req, res, [action, handler]) => {
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

function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

function queryInt(values: readonly string[], fallback: number): number {
  if (values.length === 0) return fallback;
  if (values.length > 1 || !/^\d{1,15}$/.test(values[0]!))
    throw new HostError(Problem.invalidRequest, "from and to must be whole numbers");
  return Number(values[0]);
}

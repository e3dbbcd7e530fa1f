import express, { type NextFunction, type Request, type Response } from "express";
import { truncate } from "../cloudevents/attributes.js";
import { HostError, toHostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { Dispatcher } from "../host/dispatcher.js";
import { validateData } from "../host/event-handler.js";
import type { Registry } from "../host/registry.js";
import type { StateStore } from "../store/state-store.js";
import type { Logger } from "../observability/logger.js";
import { readJsonBody } from "./command-route.js";
import { answerApiFailure } from "./problem-response.js";

export interface AppOptions {
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly store: StateStore;
  readonly bodyLimitBytes: number;
  readonly logger: Logger;
}

/**
 * The rest of the plain HTTP/JSON API: `POST /` (CloudEvents) and
 * `POST /{entity}/{id}/{command}` (commands) are served on the lean path before this app
 * (`ingress.ts`, `command-route.ts`).
 *
 * - `GET /{entity}/{id}`: `{ "state": …, "version": N }` with the same ETag.
 * - `GET /{entity}/{id}/events?from=1&to=N`: the stored events (event-sourced entities).
 * - `POST /{action}/{handler}`: run a stateless action; its JSON reply, or 204.
 */
export function createApp(options: AppOptions): express.Express {
  const { registry, dispatcher, store, bodyLimitBytes } = options;
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.set("query parser", "simple");

  const entityOf = (name: string) => {
    const model = registry.entity(name);
    if (model === undefined) throw new HostError(Problem.notFound, `no entity named "${truncate(name)}"`);
    return model;
  };

  app.get("/:entity/:id", async (req: Request, res: Response) => {
    const params = req.params as Record<string, string>;
    const model = entityOf(params.entity!);
    const { state, version } = await dispatcher.read(model, params.id!);
    res.setHeader("etag", `"${version}"`);
    res.status(200).json({ state, version });
  });

  app.get("/:entity/:id/events", async (req: Request, res: Response) => {
    const params = req.params as Record<string, string>;
    const model = entityOf(params.entity!);
    const query = req.query as Record<string, string | undefined>;
    const from = queryInt(query.from, 1);
    const to = queryInt(query.to, from + 999);
    if (to - from > 9999)
      throw new HostError(Problem.invalidRequest, "ask for at most 10,000 events at a time");
    const events = await store.readEvents({ entityType: model.name, entityId: params.id! }, from, to);
    res.status(200).json({ events });
  });

  app.post("/:action/:handler", async (req: Request, res: Response) => {
    const params = req.params as Record<string, string>;
    const route = registry.action(params.action!, params.handler!);
    if (route === undefined) {
      throw new HostError(
        Problem.notFound,
        `no action ${truncate(params.action!)}/${truncate(params.handler!)}`,
      );
    }
    const data = validateData(
      (d) => route.validate(d),
      await readJsonBody(req, bodyLimitBytes),
      `${route.name}.${route.handler}`,
    );
    const reply = await route.run(data, { type: route.type });
    if (reply === undefined) res.status(204).end();
    else res.status(200).json(reply);
  });

  app.use((req: Request) => {
    throw new HostError(Problem.notFound, `no route for ${req.method} ${truncate(req.path)}`);
  });

  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    answerApiFailure(options.logger, req, res, bodyParserError(error) ?? toHostError(error));
  });
  return app;
}

/**
 * Express's own error for a malformed URL (a `URIError` from decoding a path parameter) carries a
 * 400; keep it but use our problem shape. Only that one: an action handler's error with a
 * `status` (as HTTP client libraries throw) is a handler failure, answered 500 without its message.
 */
function bodyParserError(error: unknown): HostError | undefined {
  if (error instanceof HostError) return error;
  const status = (error as { status?: unknown } | null)?.status;
  if (error instanceof URIError && typeof status === "number" && status >= 400 && status < 500) {
    return new HostError(Problem.invalidRequest, error.message);
  }
  return undefined;
}

function queryInt(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,15}$/.test(value))
    throw new HostError(Problem.invalidRequest, "from and to must be whole numbers");
  return Number(value);
}

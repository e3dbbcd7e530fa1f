import { isUtf8 } from "node:buffer";
import express, { type NextFunction, type Request, type Response } from "express";
import { parseJson, isJsonMediaType, checkCharset } from "../cloudevents/json.js";
import { HostError, toHostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { Dispatcher } from "../host/dispatcher.js";
import { httpDedupId, validateData } from "../host/event-handler.js";
import { requestTrace, traceFields } from "../host/observer.js";
import type { Registry } from "../host/registry.js";
import type { StateStore } from "../store/state-store.js";
import type { Logger } from "../observability/logger.js";
import { readBody } from "./body.js";
import { sendProblem } from "./problem-response.js";

export interface AppOptions {
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly store: StateStore;
  readonly bodyLimitBytes: number;
  readonly logger: Logger;
}

/**
 * The plain HTTP/JSON API (everything but `POST /`, which the CloudEvents ingress serves):
 *
 * - `POST /{entity}/{id}/{command}`: run a command; JSON reply and `ETag: "<version>"`.
 *   `If-Match: "<version>"` applies it only at that version (412 otherwise);
 *   `Idempotency-Key` applies it once however often it is sent.
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

  const jsonBody = async (req: Request): Promise<unknown> => {
    const body = await readBody(req, bodyLimitBytes);
    if (body.length === 0) return undefined;
    const type = req.headers["content-type"];
    if (type === undefined || !isJsonMediaType(type)) {
      throw new HostError(
        Problem.unsupportedMediaType,
        "send the command data as Content-Type: application/json",
      );
    }
    checkCharset(type);
    if (!isUtf8(body)) throw new HostError(Problem.invalidJson, "the body is not valid UTF-8");
    return parseJson(body.toString("utf8"));
  };

  const entityOf = (name: string) => {
    const model = registry.entity(name);
    if (model === undefined) throw new HostError(Problem.notFound, `no entity named "${truncate(name)}"`);
    return model;
  };

  app.post("/:entity/:id/:command", async (req: Request, res: Response) => {
    const params = req.params as Record<string, string>;
    const model = entityOf(params.entity!);
    const command = params.command!;
    if (!model.commandNames.includes(command)) {
      throw new HostError(Problem.notFound, `entity ${model.name} has no command "${truncate(command)}"`);
    }
    const ifMatch = parseIfMatch(req.headers["if-match"]);
    const idempotencyKey = req.headers["idempotency-key"];
    if (Array.isArray(idempotencyKey) || (idempotencyKey !== undefined && idempotencyKey.length > 256)) {
      throw new HostError(
        Problem.invalidRequest,
        "Idempotency-Key must be one value of at most 256 characters",
      );
    }
    const data = validateData(
      (d) => model.validate(command, d),
      await jsonBody(req),
      `${model.name}.${command}`,
    );
    const result = await dispatcher.dispatch({
      model,
      entityId: params.id!,
      command,
      data,
      dedupId:
        idempotencyKey === undefined || idempotencyKey === "" ? undefined : httpDedupId(idempotencyKey),
      ifMatch,
      trace: requestTrace(req),
    });
    res.setHeader("etag", `"${result.version}"`);
    if (result.duplicate) res.setHeader("idempotent-replayed", "true");
    if (result.reply === undefined) res.status(204).end();
    else res.status(200).json(result.reply);
  });

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
      await jsonBody(req),
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
    const hostError = bodyParserError(error) ?? toHostError(error);
    if (hostError.status >= 500) {
      options.logger.error(
        hostError.problem === Problem.handlerFailed ? "handler failed" : hostError.detail,
        { path: req.path, error: hostError.cause ?? hostError, ...traceFields(requestTrace(req)) },
      );
    }
    sendProblem(res, hostError);
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

function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === "*") return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(header);
  if (!match)
    throw new HostError(Problem.invalidRequest, 'If-Match must be an entity version in quotes, e.g. "3"');
  return Number(match[1]);
}

function queryInt(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,15}$/.test(value))
    throw new HostError(Problem.invalidRequest, "from and to must be whole numbers");
  return Number(value);
}

function truncate(value: string): string {
  return value.length > 64 ? `${value.slice(0, 64)}…` : value;
}

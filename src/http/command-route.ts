import { isUtf8 } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import { truncate } from "../cloudevents/attributes.js";
import { checkCharset, isJsonMediaType, parseJson } from "../cloudevents/json.js";
import { HostError, toHostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { Dispatcher } from "../host/dispatcher.js";
import { httpDedupId, validateData } from "../host/event-handler.js";
import { requestTrace } from "../host/observer.js";
import type { Registry } from "../host/registry.js";
import type { Logger } from "../observability/logger.js";
import { readBody } from "./body.js";
import { answerApiFailure } from "./problem-response.js";

export interface CommandRouteOptions {
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly bodyLimitBytes: number;
  readonly logger: Logger;
}

/**
 * The three raw segments of `/{entity}/{id}/{command}` (a trailing slash and a query are
 * allowed, as in the rest of the API), or undefined for any other path.
 */
export function commandPath(url: string): [string, string, string] | undefined {
  const query = url.indexOf("?");
  let path = query === -1 ? url : url.slice(0, query);
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  const parts = path.split("/");
  if (parts.length !== 4 || parts[0] !== "" || parts[1] === "" || parts[2] === "" || parts[3] === "") {
    return undefined;
  }
  return [parts[1]!, parts[2]!, parts[3]!];
}

/**
 * `POST /{entity}/{id}/{command}` on the lean path (no framework): runs the command and answers
 * its JSON reply with `ETag: "<version>"`. `If-Match: "<version>"` applies it only at that
 * version (412 otherwise); `Idempotency-Key` applies it once however often it is sent.
 */
export function createCommandRoute(
  options: CommandRouteOptions,
): (req: IncomingMessage, res: ServerResponse, path: readonly [string, string, string]) => Promise<void> {
  const { registry, dispatcher, bodyLimitBytes, logger } = options;

  const run = async (req: IncomingMessage, res: ServerResponse, path: readonly [string, string, string]) => {
    const [entity, id, command] = path.map(decodeSegment) as [string, string, string];
    const model = registry.entity(entity);
    if (model === undefined) throw new HostError(Problem.notFound, `no entity named "${truncate(entity)}"`);
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
      await readJsonBody(req, bodyLimitBytes),
      `${model.name}.${command}`,
    );
    const result = await dispatcher.dispatch({
      model,
      entityId: id,
      command,
      data,
      dedupId:
        idempotencyKey === undefined || idempotencyKey === "" ? undefined : httpDedupId(idempotencyKey),
      ifMatch,
      trace: requestTrace(req),
    });
    const headers: Record<string, string | number> = { etag: `"${result.version}"` };
    if (result.duplicate) headers["idempotent-replayed"] = "true";
    if (result.reply === undefined) {
      res.writeHead(204, headers);
      res.end();
      return;
    }
    const body = JSON.stringify(result.reply);
    headers["content-type"] = "application/json; charset=utf-8";
    headers["content-length"] = Buffer.byteLength(body);
    res.writeHead(200, headers);
    res.end(body);
  };

  return async (req, res, path) => {
    try {
      await run(req, res, path);
    } catch (error) {
      answerApiFailure(logger, req, res, toHostError(error));
    }
  };
}

/** A JSON request body (undefined when empty); 415 for another media type, 400 for bad JSON. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
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
}

function decodeSegment(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HostError(Problem.invalidRequest, `Failed to decode param '${truncate(segment)}'`);
  }
}

function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === "*") return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(header);
  if (!match)
    throw new HostError(Problem.invalidRequest, 'If-Match must be an entity version in quotes, e.g. "3"');
  return Number(match[1]);
}

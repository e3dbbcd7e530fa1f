import type { IncomingMessage, ServerResponse } from "node:http";
import { truncate } from "../cloudevents/attributes.js";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { Pipeline } from "../pipeline/pipeline.js";
import { requestTrace } from "../observability/pipeline-observer.js";
import type { Registry } from "../pipeline/registry.js";
import { readJsonBody } from "./body.js";
import { httpDedupId, validateData } from "./command-input.js";
import type { EdgeAuth } from "./edge-auth.js";

export interface CommandRouteOptions {
  readonly registry: Registry;
  readonly dispatcher: Pipeline;
  readonly bodyLimitBytes: number;
  readonly auth: EdgeAuth;
}

/**
 * `POST /{entity}/{id}/{command}`: runs the command and answers its JSON reply with
 * `ETag: "<version>"`. `If-Match: "<version>"` applies it only at that version (412
 * otherwise); `Idempotency-Key` applies it once however often it is sent. Throws its problems.
 */
export function createCommandRoute(
  options: CommandRouteOptions,
): (req: IncomingMessage, res: ServerResponse, params: readonly string[]) => Promise<void> {
  const { registry, dispatcher, bodyLimitBytes, auth } = options;

  return async (req, res, [entity, id, command]) => {
    const verified = await auth.verify("api", req.headers);
    auth.permit(verified, { kind: "command", entity: entity!, command: command! });
    const model = registry.entity(entity!);
    if (model === undefined) throw new HostError(Problem.notFound, `no entity named "${truncate(entity!)}"`);
    if (!model.commandNames.includes(command!)) {
      throw new HostError(Problem.notFound, `entity ${model.name} has no command "${truncate(command!)}"`);
    }
    auth.entityRule(model, verified, { kind: "command", command: command!, entityId: id! });
    const ifMatch = parseIfMatch(req.headers["if-match"]);
    const idempotencyKey = req.headers["idempotency-key"];
    if (Array.isArray(idempotencyKey) || (idempotencyKey !== undefined && idempotencyKey.length > 256)) {
      throw new HostError(
        Problem.invalidRequest,
        "Idempotency-Key must be one value of at most 256 characters",
      );
    }
    const data = validateData(
      (d) => model.validate(command!, d),
      await readJsonBody(req, bodyLimitBytes),
      `${model.name}.${command}`,
    );
    const result = await dispatcher.dispatch({
      model,
      entityId: id!,
      command: command!,
      data,
      dedupId:
        idempotencyKey === undefined || idempotencyKey === "" ? undefined : httpDedupId(idempotencyKey),
      ifMatch,
      trace: requestTrace(req),
      caller: verified.caller,
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
}

function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === "*") return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(header);
  if (!match)
    throw new HostError(Problem.invalidRequest, 'If-Match must be an entity version in quotes, e.g. "3"');
  return Number(match[1]);
}

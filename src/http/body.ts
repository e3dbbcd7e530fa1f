import { isUtf8 } from "node:buffer";
import type { IncomingMessage } from "node:http";
import { checkCharset, isJsonMediaType, parseJson } from "../cloudevents/json.js";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";

/**
 * Reads a request body up to `limit` bytes. A declared `Content-Length` over the limit is
 * refused before reading; a body that grows past it stops being read. Either way the
 * connection is closed after the 413, since the rest of the body is not consumed.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new HostError(Problem.invalidRequest, `the request body could not be read: ${error.message}`));
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

function tooLarge(limit: number): HostError {
  return new HostError(Problem.payloadTooLarge, `the body is larger than the limit of ${limit} bytes`);
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

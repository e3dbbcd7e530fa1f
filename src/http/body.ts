import type { IncomingMessage } from "node:http";
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

import type { Agent, IncomingHttpHeaders, request as httpRequest } from "node:http";
import { urlToHttpOptions } from "node:url";

export interface PostOptions {
  /** `request` of node:http or node:https, whichever the URL's scheme needs. */
  readonly request: typeof httpRequest;
  readonly agent: Agent;
  readonly headers: Readonly<Record<string, string | number>>;
  readonly timeoutMs: number;
}

/** Where a POST goes: the request options of a URL, worked out once for a client that posts to it often. */
export type PostTarget = ReturnType<typeof urlToHttpOptions>;

/** The target of `url`, to pass to `post` instead of the URL (which `post` would convert on every call). */
export function postTarget(url: string | URL): PostTarget {
  return urlToHttpOptions(typeof url === "string" ? new URL(url) : url);
}

/**
 * One outgoing POST of `body` (the response body is read and discarded). Rejects on a network
 * error, and when no answer comes within `timeoutMs`; any status resolves.
 */
export function post(
  url: string | URL | PostTarget,
  body: Buffer | string,
  options: PostOptions,
): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  const { request, agent, headers, timeoutMs } = options;
  const target = typeof url === "string" || url instanceof URL ? postTarget(url) : url;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...target,
        method: "POST",
        agent,
        headers: { ...headers, "content-length": Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

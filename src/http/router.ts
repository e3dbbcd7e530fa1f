import type { IncomingMessage, ServerResponse } from "node:http";
import { truncate } from "../cloudevents/attributes.js";
import { HostError, toHostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";

/** What a request is, for the hooks around it (tracing, metrics leave probes alone). */
export type RequestKind = "cloudevent" | "api" | "probe";

/** Serves one request; `params` are the decoded `:name` segments of its pattern, in order. */
export type RouteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  params: readonly string[],
) => Promise<void> | void;

/** Wraps the handling of every request (tracing and metrics hook in here). */
export type RequestWrapper = (
  kind: RequestKind,
  req: IncomingMessage,
  res: ServerResponse,
  next: () => Promise<void> | void,
) => Promise<void> | void;

/** Answers a failed request with its problem (and extra headers, e.g. `Allow`). */
export type AnswerFailure = (
  req: IncomingMessage,
  res: ServerResponse,
  error: HostError,
  headers?: Record<string, string>,
) => void;

interface Route {
  readonly method: string;
  /** A literal segment, or undefined for a `:param`. */
  readonly segments: readonly (string | undefined)[];
  readonly literals: number;
  readonly kind: RequestKind;
  readonly handler: RouteHandler;
}

export type Match =
  | { readonly route: Route; readonly params: readonly string[] }
  | { readonly route?: undefined; readonly allow: readonly string[] };

/**
 * The one router of the serving port. A pattern is `/` or `/literal/:param/…`; a request path
 * matches it segment by segment (one trailing slash and the query are ignored, a `:param`
 * takes one non-empty segment, percent-decoded). The most literal pattern wins. `HEAD` is
 * served by `GET` routes, `OPTIONS` answers the `Allow` list, and a known path asked with
 * another method answers 405 with `Allow`.
 */
export class Router {
  readonly #bySegments = new Map<number, Route[]>();

  /** Adds a route; later routes of the same specificity are tried after earlier ones. */
  add(method: string, pattern: string, kind: RequestKind, handler: RouteHandler): this {
    const parts = pathSegments(pattern);
    if (parts === undefined) throw new Error(`invalid route pattern ${pattern}`);
    const segments = parts.map((p) => (p.startsWith(":") ? undefined : p));
    const literals = segments.filter((s) => s !== undefined).length;
    const routes = this.#bySegments.get(segments.length) ?? [];
    routes.push({ method: method.toUpperCase(), segments, literals, kind, handler });
    routes.sort((a, b) => b.literals - a.literals);
    this.#bySegments.set(segments.length, routes);
    return this;
  }

  /** The route for `method` and `url` with its raw params, else the methods the path allows. */
  match(method: string, url: string): Match {
    const parts = pathSegments(url);
    const routes = (parts && this.#bySegments.get(parts.length)) ?? [];
    const wanted = method === "HEAD" ? "GET" : method;
    for (const route of routes) {
      if (route.method !== wanted) continue;
      const params = matchSegments(route.segments, parts!);
      if (params !== undefined) return { route, params };
    }
    const allow = new Set<string>();
    for (const route of routes) {
      if (matchSegments(route.segments, parts!) !== undefined) allow.add(route.method);
    }
    if (allow.has("GET")) allow.add("HEAD");
    if (allow.size > 0) allow.add("OPTIONS");
    return { allow: [...allow].sort() };
  }

  /** A request listener over the routes; `wrap` runs around each one (unknown paths are "api"). */
  listener(
    wrap: RequestWrapper | undefined,
    fail: AnswerFailure,
  ): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      const match = this.match(req.method ?? "GET", req.url ?? "/");
      const serve =
        match.route === undefined
          ? () => unmatched(req, res, match.allow, fail)
          : async () => {
              try {
                const { params } = match;
                await match.route.handler(req, res, params.length === 0 ? params : params.map(decodeSegment));
              } catch (error) {
                fail(req, res, toHostError(error));
              }
            };
      const kind = match.route?.kind ?? "api";
      if (wrap) void wrap(kind, req, res, serve);
      else void serve();
    };
  }
}

function unmatched(
  req: IncomingMessage,
  res: ServerResponse,
  allow: readonly string[],
  fail: AnswerFailure,
): void {
  const path = truncate((req.url ?? "/").split("?", 1)[0]!);
  if (allow.length === 0) {
    fail(req, res, new HostError(Problem.notFound, `no route for ${req.method} ${path}`));
  } else if (req.method === "OPTIONS") {
    res.writeHead(204, { allow: allow.join(", ") });
    res.end();
  } else {
    const detail = `${path} answers ${allow.join(", ")}, not ${req.method}`;
    fail(req, res, new HostError(Problem.methodNotAllowed, detail), { allow: allow.join(", ") });
  }
}

/**
 * The raw segments of a request target's path: "/" is none; one trailing slash and the query
 * are dropped. Undefined for a target that is not an absolute path.
 */
export function pathSegments(url: string): string[] | undefined {
  if (url.charCodeAt(0) !== 47 /* "/" */) return undefined;
  const query = url.indexOf("?");
  let path = query === -1 ? url : url.slice(0, query);
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  return path === "/" ? [] : path.slice(1).split("/");
}

function matchSegments(pattern: readonly (string | undefined)[], parts: readonly string[]) {
  const params: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const literal = pattern[i];
    if (literal === undefined) {
      if (parts[i] === "") return undefined;
      params.push(parts[i]!);
    } else if (literal !== parts[i]) return undefined;
  }
  return params;
}

/** Percent-decodes one path segment; a malformed encoding is the client's 400. */
export function decodeSegment(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HostError(Problem.invalidRequest, `Failed to decode param '${truncate(segment)}'`);
  }
}

import type { IncomingHttpHeaders } from "node:http";
import { toHostError } from "../errors/host-error.js";
import { setRequestTrace, type PipelineObserver } from "./pipeline-observer.js";
import { isProbe } from "./observers.js";
import {
  ENTITY_VERSION,
  eventSpan,
  failureShape,
  requestSpan,
  stepHooks,
  type HandlerTime,
} from "./span-shape.js";
import { setEventTrace, type Tracing } from "./tracing.js";

export type AttributeValue = string | number | boolean;

/** Name and attributes of a span, as `span-shape.ts` describes it. */
export interface SpanShape {
  readonly name: string;
  readonly attributes: Record<string, AttributeValue>;
}

/**
 * What a tracing backend renders: spans `S` (which are the pipeline's trace handles) and remote
 * parents `P` (a propagated context). The backend records; what is recorded, under which name
 * and with which attributes, is decided once, by `createTracer`.
 */
export interface SpanBackend<S extends HandlerTime, P> {
  /** The remote parent that trace-context headers (`traceparent`, `tracestate`…) name, if any. */
  extract(carrier: Readonly<Record<string, unknown>>): P | undefined;
  traceIdOf(parent: P): string;
  /**
   * Starts a span. `describe` is called only when the span is recorded (an unsampled span only
   * carries the context on, so its attributes are never built).
   */
  start(
    describe: () => SpanShape,
    kind: "server" | "consumer",
    parent: P | undefined,
    links: readonly P[],
    ceId?: string,
  ): S;
  setAttribute(span: S, key: string, value: AttributeValue): void;
  rename(span: S, name: string): void;
  /** Status ERROR, with `message` when there is one. */
  setError(span: S, message: string | undefined): void;
  /** A finished INTERNAL child of `parent` that took `seconds` up to now. */
  child(parent: S, name: string, seconds: number, attributes: Record<string, AttributeValue>): void;
  /** The trace-context extensions continuing `span` (`traceparent`, and `tracestate` when set). */
  inject(span: S): Record<string, string>;
  end(span: S): void;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/** Tracing through `backend`: the spans of `span-shape.ts`, whichever backend renders them. */
export function createTracer<S extends HandlerTime, P>(backend: SpanBackend<S, P>): Tracing {
  const fromEvent = (extensions: Readonly<Record<string, unknown>>) => {
    const { traceparent, tracestate } = extensions;
    if (typeof traceparent !== "string") return undefined;
    return backend.extract(typeof tracestate === "string" ? { traceparent, tracestate } : { traceparent });
  };
  const fromHeaders = (headers: IncomingHttpHeaders | undefined) =>
    headers?.traceparent === undefined ? undefined : backend.extract(headers);

  const traceEvent: NonNullable<PipelineObserver["traceEvent"]> = async (event, transport, run) => {
    const hop = fromHeaders(transport);
    const own = fromEvent(event.extensions);
    // The event's own context wins (it survives the broker); the HTTP hop becomes a link.
    const links =
      own !== undefined && hop !== undefined && backend.traceIdOf(hop) !== backend.traceIdOf(own)
        ? [hop]
        : [];
    const span = backend.start(() => eventSpan(event), "consumer", own ?? hop, links, event.id);
    try {
      const reply = await run(span);
      if (reply === undefined) return undefined;
      const version = reply.extensions.entityversion;
      if (typeof version === "number" && span.sampled) backend.setAttribute(span, ENTITY_VERSION, version);
      return { ...reply, extensions: { ...reply.extensions, ...backend.inject(span) } };
    } catch (error) {
      // For the log line of the failure (only failures need it: nothing to pay on success).
      setEventTrace(event, span);
      const hostError = toHostError(error);
      if (span.sampled) {
        const failure = failureShape(hostError);
        for (const key in failure.attributes) backend.setAttribute(span, key, failure.attributes[key]!);
        if (failure.name !== undefined) backend.rename(span, failure.name);
        if (failure.errorMessage !== undefined) backend.setError(span, failure.errorMessage);
      }
      throw hostError;
    } finally {
      backend.end(span);
    }
  };

  const observer: PipelineObserver = {
    traceEvent,
    ...stepHooks(
      (parent, name, seconds, attributes) => {
        if (parent !== undefined && parent.sampled) backend.child(parent as S, name, seconds, attributes);
      },
      (trace, key, value) => backend.setAttribute(trace as S, key, value),
    ),
  };

  return {
    observer,
    wrapRequest(kind, req, res, next) {
      // CloudEvents get their span per event, once the message is parsed (see traceEvent).
      if (kind !== "api" || isProbe(req)) return next();
      const span = backend.start(
        () => requestSpan(req.method, req.url),
        "server",
        fromHeaders(req.headers),
        [],
      );
      setRequestTrace(req, span);
      res.once("close", () => {
        if (span.sampled) backend.setAttribute(span, "http.response.status_code", res.statusCode);
        if (res.statusCode >= 500) backend.setError(span, undefined);
        backend.end(span);
      });
      return next();
    },
    async shutdown(timeoutMs = 5000) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([backend.shutdown(), deadline]).finally(() => clearTimeout(timer));
    },
  };
}

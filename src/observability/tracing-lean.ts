import type { IncomingHttpHeaders } from "node:http";
import { toHostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import { setRequestTrace, type PipelineObserver, type TraceHandle } from "../host/observer.js";
import type { Logger } from "./logger.js";
import { isProbe } from "./observers.js";
import { batchConfig, otlpExportConfig } from "./otlp/config.js";
import { SpanExporter } from "./otlp/exporter.js";
import { traceResource } from "./otlp/resource.js";
import { SpanKind, StatusCode, type Attributes, type SpanLink, type SpanRecord } from "./otlp/span.js";
import { ENTITY_VERSION, eventSpan, requestSpan, stepHooks } from "./span-conventions.js";
import {
  formatTraceparent,
  IdGenerator,
  parseTraceparent,
  samplerFromEnv,
  type SpanContext,
} from "./trace-context.js";
import type { Tracing, TracingOptions } from "./tracing.js";

type Env = Readonly<Record<string, string | undefined>>;

const ORIGIN = performance.timeOrigin;
const now = () => ORIGIN + performance.now();

/** What an unsampled span is described with: nothing (it is never exported). */
const UNSAMPLED = Object.freeze({ name: "", attributes: Object.freeze({}) as Attributes });

/**
 * Tracing with knstate's own spans: plain records, W3C trace context, the `OTEL_TRACES_SAMPLER`
 * samplers, and batches sent to an OTLP/HTTP collector (protobuf or JSON) as the `OTEL_*`
 * variables configure. Same spans as the OpenTelemetry SDK would record, at a fraction of the
 * cost per span, and no OpenTelemetry module on the start-up path.
 */
export async function createLeanTracing(
  env: Env,
  options: TracingOptions & { readonly logger: Logger },
): Promise<Tracing> {
  const exporter = await SpanExporter.create(
    otlpExportConfig(env),
    batchConfig(env),
    traceResource(env, options),
    options.logger,
  );
  const ids = new IdGenerator();
  const sample = samplerFromEnv(env);

  /**
   * A new span. Its name and attributes are made only when it is sampled (`describe`): an
   * unsampled span is never exported, it only carries the trace context on.
   */
  const startSpan = (
    describe: () => { name: string; attributes: Attributes },
    kind: SpanKind,
    parent: SpanContext | undefined,
    links: readonly SpanLink[] = [],
  ): SpanRecord => {
    const start = now();
    let traceId: string;
    let spanId: string;
    if (parent === undefined) {
      const both = ids.traceAndSpanId();
      traceId = both.slice(0, 32);
      spanId = both.slice(32);
    } else {
      traceId = parent.traceId;
      spanId = ids.spanId();
    }
    const sampled = sample(traceId, parent);
    const { name, attributes } = sampled ? describe() : UNSAMPLED;
    return {
      traceId,
      spanId,
      parentSpanId: parent?.spanId,
      remoteParent: parent !== undefined,
      traceState: parent?.traceState,
      sampled,
      name,
      kind,
      start,
      end: start,
      attributes,
      links,
      status: StatusCode.unset,
      statusMessage: undefined,
      ceId: undefined,
      handlerMs: 0,
      handlerRuns: 0,
    };
  };
  const end = (span: SpanRecord, at = now()) => {
    span.end = at;
    if (span.sampled) exporter.add(span);
  };

  /** A finished child of `parent` that took `seconds` up to now. */
  const child = (parent: TraceHandle | undefined, name: string, seconds: number, attributes: Attributes) => {
    const p = parent as SpanRecord | undefined;
    if (p === undefined || !p.sampled) return;
    const at = now();
    const span: SpanRecord = {
      traceId: p.traceId,
      spanId: ids.spanId(),
      parentSpanId: p.spanId,
      remoteParent: false,
      traceState: p.traceState,
      sampled: true,
      name,
      kind: SpanKind.internal,
      start: at - seconds * 1000,
      end: at,
      attributes,
      links: [],
      status: StatusCode.unset,
      statusMessage: undefined,
      ceId: undefined,
      handlerMs: 0,
      handlerRuns: 0,
    };
    exporter.add(span);
  };

  const fromHeaders = (headers: IncomingHttpHeaders | undefined) => {
    const traceparent = headers?.traceparent;
    if (typeof traceparent !== "string") return undefined;
    const tracestate = headers!.tracestate;
    return parseTraceparent(traceparent, typeof tracestate === "string" ? tracestate : undefined);
  };

  const observer: PipelineObserver = {
    async traceEvent(event, transport, run) {
      const hop = fromHeaders(transport);
      const traceparent = event.extensions.traceparent;
      const tracestate = event.extensions.tracestate;
      const own =
        typeof traceparent === "string"
          ? parseTraceparent(traceparent, typeof tracestate === "string" ? tracestate : undefined)
          : undefined;
      // The event's own context wins (it survives the broker); the HTTP hop becomes a link.
      const links = own !== undefined && hop !== undefined && hop.traceId !== own.traceId ? [hop] : [];
      const span = startSpan(() => eventSpan(event), SpanKind.consumer, own ?? hop, links);
      span.ceId = event.id;
      try {
        const reply = await run(span);
        if (reply === undefined) return undefined;
        const version = reply.extensions.entityversion;
        if (typeof version === "number" && span.sampled) span.attributes[ENTITY_VERSION] = version;
        const extensions: Record<string, string | number | boolean> = {
          ...reply.extensions,
          traceparent: formatTraceparent(span),
        };
        if (span.traceState !== undefined) extensions.tracestate = span.traceState;
        return { ...reply, extensions };
      } catch (error) {
        const hostError = toHostError(error).inTrace(span);
        if (!span.sampled) throw hostError;
        span.attributes["error.type"] = hostError.problem.type;
        if (hostError.problem === Problem.unknownType) span.name = "process (unknown type)";
        if (hostError.status >= 500) {
          span.status = StatusCode.error;
          span.statusMessage = hostError.detail;
        }
        throw hostError;
      } finally {
        end(span);
      }
    },
    ...stepHooks(child, (trace, key, value) => ((trace as SpanRecord).attributes[key] = value)),
  };

  return {
    observer,
    wrapRequest(kind, req, res, next) {
      // CloudEvents get their span per event, once the message is parsed (see traceEvent).
      if (kind !== "api" || isProbe(req)) return next();
      const span = startSpan(
        () => requestSpan(req.method, req.url),
        SpanKind.server,
        fromHeaders(req.headers),
      );
      setRequestTrace(req, span);
      res.once("close", () => {
        if (span.sampled) span.attributes["http.response.status_code"] = res.statusCode;
        if (res.statusCode >= 500) span.status = StatusCode.error;
        end(span);
      });
      return next();
    },
    async shutdown(timeoutMs = 5000) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([exporter.shutdown(), deadline]).finally(() => clearTimeout(timer));
    },
  };
}

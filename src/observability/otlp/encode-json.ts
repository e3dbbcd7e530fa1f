import {
  spanFlags,
  toNanos,
  type Attributes,
  type ExportScope,
  type SpanBatch,
  type SpanRecord,
} from "./span.js";

/** Batches for OTLP/JSON (`application/json`): the spans are kept and written when sealed. */
export class JsonBatch implements SpanBatch {
  readonly #scope: ExportScope;
  #spans: SpanRecord[] = [];

  constructor(scope: ExportScope) {
    this.#scope = scope;
  }

  get count(): number {
    return this.#spans.length;
  }

  add(span: SpanRecord): void {
    this.#spans.push(span);
  }

  seal(): Buffer {
    const body = encodeJson(this.#spans, this.#scope);
    this.#spans = [];
    return body;
  }
}

function jsonAttributes(attributes: Attributes): unknown[] {
  const out: unknown[] = [];
  for (const key in attributes) {
    const value = attributes[key]!;
    out.push({
      key,
      value:
        typeof value === "string"
          ? { stringValue: value }
          : typeof value === "boolean"
            ? { boolValue: value }
            : Number.isSafeInteger(value)
              ? { intValue: String(value) }
              : { doubleValue: value },
    });
  }
  return out;
}

/** An OTLP `ExportTraceServiceRequest` in the OTLP/JSON mapping (`application/json`). */
export function encodeJson(spans: readonly SpanRecord[], scope: ExportScope): Buffer {
  const body = {
    resourceSpans: [
      {
        resource: { attributes: jsonAttributes(scope.resource) },
        scopeSpans: [
          {
            scope: { name: scope.scopeName, version: scope.scopeVersion },
            spans: spans.map((span) => ({
              traceId: span.traceId,
              spanId: span.spanId,
              ...(span.traceState ? { traceState: span.traceState } : {}),
              ...(span.parentSpanId === undefined ? {} : { parentSpanId: span.parentSpanId }),
              name: span.name,
              kind: span.kind,
              startTimeUnixNano: String(toNanos(span.start)),
              endTimeUnixNano: String(toNanos(span.end)),
              attributes: jsonAttributes(span.attributes),
              ...(span.links.length === 0
                ? {}
                : {
                    links: span.links.map((link) => ({
                      traceId: link.traceId,
                      spanId: link.spanId,
                      ...(link.traceState ? { traceState: link.traceState } : {}),
                    })),
                  }),
              ...(span.status === 0 && span.statusMessage === undefined
                ? {}
                : {
                    status: {
                      ...(span.status === 0 ? {} : { code: span.status }),
                      ...(span.statusMessage === undefined ? {} : { message: span.statusMessage }),
                    },
                  }),
              flags: spanFlags(span),
            })),
          },
        ],
      },
    ],
  };
  return Buffer.from(JSON.stringify(body));
}

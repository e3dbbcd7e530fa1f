import { varintBytes, Writer } from "./protobuf-writer.js";
import { spanFlags, type ExportScope, type SpanBatch, type SpanRecord } from "./span.js";

export type { SpanBatch } from "./span.js";
export { encodeJson, JsonBatch } from "./encode-json.js";

/** Field `field` holding `content` (a nested message), as tag, length and bytes. */
function lengthDelimited(field: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2]), varintBytes(content.length), content]);
}

/** Batches for OTLP protobuf (`application/x-protobuf`). */
export class ProtobufBatch implements SpanBatch {
  /** `ResourceSpans.resource`, tagged. */
  readonly #resource: Buffer;
  /** `ScopeSpans.scope`, tagged. */
  readonly #scope: Buffer;
  /**
   * Room before the scope for what encloses the spans: the request's `resource_spans` tag and
   * length, the resource, and the `scope_spans` tag and length (each length at most 5 bytes).
   */
  readonly #headroom: number;
  #spans: Writer;
  #count = 0;

  constructor(scope: ExportScope) {
    const resource = new Writer();
    resource.attributes(1, scope.resource);
    this.#resource = lengthDelimited(1, resource.buf.subarray(0, resource.pos));
    const instrumentation = new Writer();
    instrumentation.string(1, scope.scopeName);
    instrumentation.string(2, scope.scopeVersion);
    this.#scope = lengthDelimited(1, instrumentation.buf.subarray(0, instrumentation.pos));
    this.#headroom = 1 + 5 + this.#resource.length + 1 + 5;
    this.#spans = this.#writer(64 * 1024);
  }

  get count(): number {
    return this.#count;
  }

  add(span: SpanRecord): void {
    writeSpan(this.#spans, span);
    this.#count++;
  }

  seal(): Buffer {
    // The spans were written after the headroom and the scope: the enclosing fields are
    // written backwards in front of them, so the request is never copied.
    const w = this.#spans;
    const end = w.pos;
    let at = this.#headroom;
    at = writeVarintBefore(w.buf, at, end - at);
    w.buf[--at] = (2 << 3) | 2;
    at -= this.#resource.length;
    this.#resource.copy(w.buf, at);
    at = writeVarintBefore(w.buf, at, end - at);
    w.buf[--at] = (1 << 3) | 2;
    this.#spans = this.#writer(Math.max(64 * 1024, w.buf.length));
    this.#count = 0;
    return w.buf.subarray(at, end);
  }

  #writer(size: number): Writer {
    const w = new Writer(size);
    w.pos = this.#headroom;
    w.ensure(this.#scope.length);
    this.#scope.copy(w.buf, w.pos);
    w.pos += this.#scope.length;
    return w;
  }
}

/** Writes `value` as a varint ending just before `end`; returns where it starts. */
function writeVarintBefore(buf: Buffer, end: number, value: number): number {
  const bytes = varintBytes(value);
  const at = end - bytes.length;
  bytes.copy(buf, at);
  return at;
}

/** One span as field 2 (`spans`) of a `ScopeSpans`. */
function writeSpan(w: Writer, span: SpanRecord): void {
  const s = w.open(2);
  w.hexBytes(1, span.traceId);
  w.hexBytes(2, span.spanId);
  if (span.traceState) w.string(3, span.traceState);
  if (span.parentSpanId !== undefined) w.hexBytes(4, span.parentSpanId);
  w.string(5, span.name);
  w.tag(6, 0);
  w.varint(span.kind);
  w.nanos(7, span.start);
  w.nanos(8, span.end);
  w.attributes(9, span.attributes);
  for (const link of span.links) {
    const l = w.open(13);
    w.hexBytes(1, link.traceId);
    w.hexBytes(2, link.spanId);
    if (link.traceState) w.string(3, link.traceState);
    w.close(l);
  }
  if (span.status !== 0 || span.statusMessage !== undefined) {
    const status = w.open(15);
    if (span.statusMessage !== undefined) w.string(2, span.statusMessage);
    if (span.status !== 0) {
      w.tag(3, 0);
      w.varint(span.status);
    }
    w.close(status);
  }
  w.fixed32(16, spanFlags(span));
  w.close(s);
}

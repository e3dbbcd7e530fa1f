import type { HandlerTime } from "../span-shape.js";

export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue>;

/** OTLP `Span.SpanKind`. */
export const SpanKind = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];

/** OTLP `Status.StatusCode`. */
export const StatusCode = { unset: 0, ok: 1, error: 2 } as const;
export type StatusCode = (typeof StatusCode)[keyof typeof StatusCode];

export interface SpanLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceState?: string | undefined;
}

/**
 * One span as knstate records it: a plain object, which is also the trace handle the pipeline
 * passes along. Times are milliseconds since the epoch, with sub-millisecond precision.
 */
export interface SpanRecord extends HandlerTime {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  /** The parent came from another process (a `traceparent`). */
  readonly remoteParent: boolean;
  readonly traceState: string | undefined;
  readonly sampled: boolean;
  name: string;
  readonly kind: SpanKind;
  readonly start: number;
  end: number;
  /** Empty and frozen when the span is not sampled. */
  readonly attributes: Attributes;
  readonly links: readonly SpanLink[];
  status: StatusCode;
  statusMessage: string | undefined;
  ceId: string | undefined;
}

/** What every batch is sent with: the resource and the instrumentation scope. */
export interface ExportScope {
  readonly resource: Attributes;
  readonly scopeName: string;
  readonly scopeVersion: string;
}

/** Epoch milliseconds as OTLP's unsigned 64-bit nanoseconds. */
export function toNanos(ms: number): bigint {
  const whole = Math.floor(ms);
  const fraction = Math.round((ms - whole) * 1e6);
  return BigInt(whole) * 1_000_000n + BigInt(fraction);
}

/** OTLP `Span.flags`: the W3C trace flags, plus whether the parent is known to be remote. */
export function spanFlags(span: SpanRecord): number {
  const HAS_IS_REMOTE = 0x100;
  const IS_REMOTE = 0x200;
  return (span.sampled ? 1 : 0) | HAS_IS_REMOTE | (span.remoteParent ? IS_REMOTE : 0);
}

/**
 * Spans accumulating into one export request. Spans are encoded as they are added, so a
 * finished span is garbage at once rather than an object kept until its batch leaves.
 */
export interface SpanBatch {
  readonly count: number;
  add(span: SpanRecord): void;
  /** The whole `ExportTraceServiceRequest`; the batch is empty afterwards. */
  seal(): Buffer;
}

import { randomFillSync } from "node:crypto";

/** A W3C trace context: what a `traceparent` (and `tracestate`) carries. */
export interface SpanContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
  readonly traceState?: string | undefined;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/**
 * Parses a W3C `traceparent` (version 00, or a later one read as 00 as the spec asks); undefined
 * when it is malformed or names the all-zero trace or span, so a bad header starts a new trace.
 */
export function parseTraceparent(
  traceparent: string | undefined,
  tracestate?: string,
): SpanContext | undefined {
  if (traceparent === undefined || traceparent.length > 512) return undefined;
  const m = TRACEPARENT.exec(traceparent.trim());
  if (m === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  const state = tracestate?.trim();
  return {
    traceId,
    spanId,
    sampled: (parseInt(flags, 16) & 1) === 1,
    ...(state ? { traceState: state.length > 512 ? undefined : state } : {}),
  };
}

export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.sampled ? "01" : "00"}`;
}

/** Random trace and span ids, drawn from a pool refilled 4 KiB at a time. */
export class IdGenerator {
  readonly #pool = Buffer.allocUnsafe(4096);
  #offset = this.#pool.length;

  traceId(): string {
    const id = this.#hex(16);
    return id === ZERO_TRACE ? this.traceId() : id;
  }

  /**
   * A new trace id and the id of its root span, drawn at once: 48 hex digits, the trace id
   * first (`slice(0, 32)`), then the span id (`slice(32)`).
   */
  traceAndSpanId(): string {
    const ids = this.#hex(24);
    if (ids.startsWith(ZERO_TRACE) || ids.endsWith(ZERO_SPAN)) return this.traceId() + this.spanId();
    return ids;
  }

  spanId(): string {
    const id = this.#hex(8);
    return id === ZERO_SPAN ? this.spanId() : id;
  }

  #hex(bytes: number): string {
    if (this.#offset + bytes > this.#pool.length) {
      randomFillSync(this.#pool);
      this.#offset = 0;
    }
    const start = this.#offset;
    this.#offset += bytes;
    return this.#pool.toString("hex", start, this.#offset);
  }
}

/** Decides whether a new span is recorded and exported (`sampled`). */
export type Sampler = (traceId: string, parent: SpanContext | undefined) => boolean;

/** The samplers of `OTEL_TRACES_SAMPLER` that knstate implements itself. */
export const SAMPLERS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;

/**
 * The sampler `OTEL_TRACES_SAMPLER` names (default `parentbased_always_on`), with
 * `OTEL_TRACES_SAMPLER_ARG` as the ratio of the `traceidratio` ones (default 1). The ratio
 * looks at the trace id's last 52 bits, its random part, so every service that samples by
 * ratio keeps the same traces.
 */
export function samplerFromEnv(env: Readonly<Record<string, string | undefined>>): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER?.trim() || "parentbased_always_on").toLowerCase();
  const arg = Number(env.OTEL_TRACES_SAMPLER_ARG);
  const ratio =
    Number.isFinite(arg) && env.OTEL_TRACES_SAMPLER_ARG?.trim() ? Math.min(1, Math.max(0, arg)) : 1;
  const byRatio = (traceId: string) => parseInt(traceId.slice(19), 16) < ratio * 2 ** 52;
  const root: (traceId: string) => boolean = name.endsWith("always_off")
    ? () => false
    : name.endsWith("traceidratio")
      ? byRatio
      : () => true;
  if (!name.startsWith("parentbased_")) return (traceId) => root(traceId);
  return (traceId, parent) => (parent === undefined ? root(traceId) : parent.sampled);
}

import type { Agent, IncomingHttpHeaders } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { post } from "../../net/post.js";
import type { Logger } from "../logger.js";
import type { BatchConfig, OtlpExportConfig } from "./config.js";
import { JsonBatch, ProtobufBatch, type SpanBatch } from "./encode.js";
import type { ExportScope, SpanRecord } from "./span.js";

const gzipAsync = promisify(gzip);
/** Statuses OTLP/HTTP says to retry. */
const RETRYABLE = new Set([429, 502, 503, 504]);
const WARN_EVERY_MS = 60_000;

type Post = (body: Buffer) => Promise<{ status: number; headers: IncomingHttpHeaders }>;

/**
 * Batches finished spans and sends them to an OTLP/HTTP endpoint, one export at a time: a batch
 * leaves when `maxExportBatchSize` spans are waiting or `scheduleDelayMs` after the first one.
 * A full queue drops new spans (tracing never slows or stops the host) and says so in the log,
 * at most once a minute, as it does for exports that fail after their retries.
 */
export class SpanExporter {
  readonly #batch: BatchConfig;
  /** Spans added since the last batch left; full batches wait in `#sealed`. */
  readonly #current: SpanBatch;
  #sealed: Array<{ readonly body: Buffer; readonly count: number }> = [];
  /** Spans in `#current` and `#sealed` together (bounded by `maxQueueSize`). */
  #queued = 0;
  readonly #post: Post;
  readonly #gzip: boolean;
  readonly #agent: Agent;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #exporting: Promise<void> | undefined;
  #dropped = 0;
  #lastWarning = -Infinity;

  private constructor(
    config: OtlpExportConfig,
    batch: BatchConfig,
    scope: ExportScope,
    transport: typeof import("node:http") | typeof import("node:https"),
    logger: Logger,
  ) {
    this.#batch = batch;
    this.#logger = logger;
    this.#gzip = config.gzip;
    const json = config.protocol === "http/json";
    this.#current = json ? new JsonBatch(scope) : new ProtobufBatch(scope);
    this.#agent = new transport.Agent({
      keepAlive: true,
      maxSockets: 2,
      ...(config.ca ? { ca: config.ca } : {}),
      ...(config.cert ? { cert: config.cert } : {}),
      ...(config.key ? { key: config.key } : {}),
    });
    const headers = {
      ...config.headers,
      "content-type": json ? "application/json" : "application/x-protobuf",
      ...(config.gzip ? { "content-encoding": "gzip" } : {}),
    };
    this.#post = (body) =>
      post(config.url, body, {
        request: transport.request,
        agent: this.#agent,
        headers,
        timeoutMs: config.timeoutMs,
      });
  }

  static async create(
    config: OtlpExportConfig,
    batch: BatchConfig,
    scope: ExportScope,
    logger: Logger,
  ): Promise<SpanExporter> {
    const transport =
      config.url.protocol === "https:" ? await import("node:https") : await import("node:http");
    return new SpanExporter(config, batch, scope, transport, logger);
  }

  /** Queues a finished, sampled span. */
  add(span: SpanRecord): void {
    if (this.#queued >= this.#batch.maxQueueSize) {
      this.#dropped++;
      this.#warn("the span queue is full (OTEL_BSP_MAX_QUEUE_SIZE)");
      return;
    }
    this.#current.add(span);
    this.#queued++;
    if (this.#current.count >= this.#batch.maxExportBatchSize) {
      this.#seal();
      this.#kick();
    } else this.#timer ??= setTimeout(() => this.#kick(), this.#batch.scheduleDelayMs).unref();
  }

  /** Sends every queued span; resolves when nothing is left or in flight. */
  async flush(): Promise<void> {
    while (this.#exporting !== undefined || this.#queued > 0) {
      this.#kick();
      await this.#exporting;
    }
  }

  async shutdown(): Promise<void> {
    try {
      await this.flush();
    } finally {
      clearTimeout(this.#timer);
      this.#agent.destroy();
    }
  }

  #seal(): void {
    const count = this.#current.count;
    if (count > 0) this.#sealed.push({ body: this.#current.seal(), count });
  }

  #kick(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#exporting !== undefined) return;
    if (this.#sealed.length === 0) this.#seal();
    const batch = this.#sealed.shift();
    if (batch === undefined) return;
    this.#exporting = this.#send(batch.body, batch.count).finally(() => {
      this.#queued -= batch.count;
      this.#exporting = undefined;
      if (this.#sealed.length > 0) this.#kick();
      else if (this.#current.count > 0) {
        this.#timer ??= setTimeout(() => this.#kick(), this.#batch.scheduleDelayMs).unref();
      }
    });
  }

  /** One batch, retried with backoff on the retryable statuses and on network errors. */
  async #send(encoded: Buffer, count: number): Promise<void> {
    const deadline = performance.now() + this.#batch.exportTimeoutMs;
    let problem = "";
    try {
      const body = this.#gzip ? await gzipAsync(encoded) : encoded;
      for (let attempt = 0; ; attempt++) {
        let waitMs: number;
        try {
          const { status, headers } = await this.#post(body);
          if (status >= 200 && status < 300) return;
          problem = `the collector answered ${status}`;
          if (!RETRYABLE.has(status)) break;
          const retryAfter = Number(headers["retry-after"]);
          waitMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : backoff(attempt);
        } catch (error) {
          problem = (error as Error).message;
          waitMs = backoff(attempt);
        }
        if (performance.now() + waitMs >= deadline) break;
        await sleep(waitMs, undefined, { ref: false });
      }
    } catch (error) {
      problem = (error as Error).message;
    }
    this.#dropped += count;
    this.#warn(`exporting spans failed: ${problem}`);
  }

  #warn(reason: string): void {
    const now = performance.now();
    if (now - this.#lastWarning < WARN_EVERY_MS) return;
    this.#lastWarning = now;
    this.#logger.warn(`tracing: ${reason}; spans dropped so far: ${this.#dropped}`);
  }
}

function backoff(attempt: number): number {
  const ceiling = Math.min(5000, 100 * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

import type { Agent, IncomingHttpHeaders } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import type { Logger } from "../logger.js";
import type { BatchConfig, OtlpExportConfig } from "./config.js";
import { encodeJson, encodeProtobuf } from "./encode.js";
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
  readonly #encode: (spans: readonly SpanRecord[]) => Buffer;
  readonly #post: Post;
  readonly #gzip: boolean;
  readonly #agent: Agent;
  readonly #logger: Logger;
  #queue: SpanRecord[] = [];
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
    this.#encode = json ? (spans) => encodeJson(spans, scope) : (spans) => encodeProtobuf(spans, scope);
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
      new Promise((resolve, reject) => {
        const req = transport.request(
          config.url,
          {
            method: "POST",
            agent: this.#agent,
            headers: { ...headers, "content-length": body.length },
            timeout: config.timeoutMs,
          },
          (res) => {
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
            res.on("error", reject);
          },
        );
        req.on("timeout", () => req.destroy(new Error(`no answer within ${config.timeoutMs} ms`)));
        req.on("error", reject);
        req.end(body);
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
    if (this.#queue.length >= this.#batch.maxQueueSize) {
      this.#dropped++;
      this.#warn("the span queue is full (OTEL_BSP_MAX_QUEUE_SIZE)");
      return;
    }
    this.#queue.push(span);
    if (this.#queue.length >= this.#batch.maxExportBatchSize) this.#kick();
    else this.#timer ??= setTimeout(() => this.#kick(), this.#batch.scheduleDelayMs).unref();
  }

  /** Sends every queued span; resolves when nothing is left or in flight. */
  async flush(): Promise<void> {
    while (this.#exporting !== undefined || this.#queue.length > 0) {
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

  #kick(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#exporting !== undefined || this.#queue.length === 0) return;
    const spans = this.#queue.splice(0, this.#batch.maxExportBatchSize);
    this.#exporting = this.#send(spans).finally(() => {
      this.#exporting = undefined;
      if (this.#queue.length >= this.#batch.maxExportBatchSize) this.#kick();
      else if (this.#queue.length > 0) {
        this.#timer ??= setTimeout(() => this.#kick(), this.#batch.scheduleDelayMs).unref();
      }
    });
  }

  /** One batch, retried with backoff on the retryable statuses and on network errors. */
  async #send(spans: readonly SpanRecord[]): Promise<void> {
    const deadline = performance.now() + this.#batch.exportTimeoutMs;
    let problem = "";
    try {
      const encoded = this.#encode(spans);
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
    this.#dropped += spans.length;
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

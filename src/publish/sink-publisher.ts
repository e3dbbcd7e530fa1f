import { DEFAULTS } from "../config/defaults.js";
import type { DomainEvent } from "../entity/model.js";
import { VALUE_UPDATED } from "../entity/model.js";
import { JSON_FORMAT_MEMBERS } from "../cloudevents/event.js";
import type { OutgoingEvent } from "../cloudevents/reply.js";
import type { PipelineObserver, TraceHandle } from "../observability/pipeline-observer.js";
import { formatTraceparent } from "../observability/trace-context.js";
import { silentLogger, type Logger } from "../observability/logger.js";
import { SinkClient } from "./sink-client.js";

/** The extension attribute that carries the entity version an event produced. */
export const ENTITY_VERSION_EXTENSION = "entityversion";

/** Domain events of a value entity (whole new states) are published under this event name. */
export const VALUE_STATE_EVENT = "state";

/** Attributes an override may not replace: `K_CE_OVERRIDES` only adds extensions. */
const PROTECTED: ReadonlySet<string> = new Set([...JSON_FORMAT_MEMBERS, ENTITY_VERSION_EXTENSION]);

export interface SinkPublisherOptions {
  /** `K_SINK`: where events are POSTed. */
  readonly sink: string;
  /** `K_SERVICE`: first segment of every event's `source`. */
  readonly service: string;
  /** The type prefix of each entity (`com.example` for `counter`). */
  readonly typePrefixes: ReadonlyMap<string, string>;
  /** Extension attributes added to every event (from `K_CE_OVERRIDES`). */
  readonly overrides?: Readonly<Record<string, string>>;
  /** Events waiting to be sent; when full, new events are dropped (and counted). Default `KNSTATE_SINK_QUEUE`'s. */
  readonly maxQueue?: number;
  /** Requests in flight at once. Default `KNSTATE_SINK_CONCURRENCY`'s. */
  readonly concurrency?: number;
  /** Timeout of one POST. Default `K_SINK_TIMEOUT`'s. */
  readonly timeoutMs?: number;
  /** `K_CA_CERTS`: PEM certificates to trust for an `https://` sink, besides the usual roots. */
  readonly caCerts?: string | undefined;
  readonly logger?: Logger;
  readonly now?: () => Date;
}

export interface SinkPublisherStats {
  readonly published: number;
  readonly failed: number;
  readonly dropped: number;
  readonly queued: number;
}

/**
 * The CloudEvent a committed domain event becomes: type `<prefix>.<entity>.<event>`, source
 * `/<service>/<entity>`, subject the entity id, and the deterministic id
 * `<entity>/<entity id>/<version>` so consumers can deduplicate on `source` + `id`.
 */
export function domainEventToCloudEvent(
  args: {
    readonly service: string;
    readonly typePrefix: string;
    readonly entityType: string;
    readonly entityId: string;
    readonly version: number;
    readonly event: DomainEvent;
    readonly time: string;
  },
  overrides: Readonly<Record<string, string>> = {},
): OutgoingEvent {
  const name = args.event.type === VALUE_UPDATED ? VALUE_STATE_EVENT : args.event.type;
  return {
    id: `${args.entityType}/${args.entityId}/${args.version}`,
    source: `/${args.service}/${args.entityType}`,
    type: `${args.typePrefix}.${args.entityType}.${name}`,
    subject: args.entityId,
    time: args.time,
    extensions: { ...overrides, [ENTITY_VERSION_EXTENSION]: args.version },
    data: args.event.data,
  };
}

/**
 * Parses `K_CE_OVERRIDES` (`{"extensions":{"tenant":"acme"}}`, set by a SinkBinding) into the
 * extensions to add. Names that are not valid CloudEvents attribute names, or that would replace
 * a standard attribute, are reported in `ignored` rather than applied.
 */
export function parseCeOverrides(json: string | undefined): {
  extensions: Record<string, string>;
  ignored: string[];
} {
  const extensions: Record<string, string> = {};
  const ignored: string[] = [];
  if (json === undefined || json.trim() === "") return { extensions, ignored };
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new Error(`K_CE_OVERRIDES is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const raw = (parsed as { extensions?: unknown } | null)?.extensions;
  if (raw === undefined) return { extensions, ignored };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error('K_CE_OVERRIDES must look like {"extensions":{"name":"value"}}');
  }
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const scalar = typeof value === "string" || typeof value === "number" || typeof value === "boolean";
    if (!scalar || !/^[a-z0-9]{1,20}$/.test(name) || PROTECTED.has(name)) {
      ignored.push(name);
      continue;
    }
    extensions[name] = String(value);
  }
  return { extensions, ignored };
}

/**
 * Publishes committed domain events to `K_SINK` as binary-mode CloudEvents. Best effort and
 * at most once: events wait in a bounded in-memory queue, a failed POST is logged and not
 * retried, and nothing here ever blocks or fails the command that produced the event.
 */
export class SinkPublisher implements PipelineObserver {
  readonly #options: SinkPublisherOptions;
  readonly #queue: OutgoingEvent[] = [];
  readonly #maxQueue: number;
  readonly #concurrency: number;
  readonly #logger: Logger;
  readonly #client: SinkClient;
  #active = 0;
  #published = 0;
  #failed = 0;
  #dropped = 0;
  #lastDropWarning = 0;
  #idle: (() => void)[] = [];
  #scheduled = false;

  constructor(options: SinkPublisherOptions) {
    this.#options = options;
    this.#maxQueue = Math.max(1, options.maxQueue ?? DEFAULTS.sinkQueueMax);
    this.#concurrency = Math.max(1, options.concurrency ?? DEFAULTS.sinkConcurrency);
    this.#logger = options.logger ?? silentLogger;
    this.#client = new SinkClient({
      sink: options.sink,
      caCerts: options.caCerts,
      timeoutMs: options.timeoutMs,
      sockets: this.#concurrency,
    });
  }

  get stats(): SinkPublisherStats {
    return {
      published: this.#published,
      failed: this.#failed,
      dropped: this.#dropped,
      queued: this.#queue.length,
    };
  }

  committed(
    entityType: string,
    entityId: string,
    firstVersion: number,
    events: readonly DomainEvent[],
    trace?: TraceHandle,
  ): void {
    const typePrefix = this.#options.typePrefixes.get(entityType);
    if (typePrefix === undefined) return;
    const time = (this.#options.now?.() ?? new Date()).toISOString();
    // The events continue the trace of the command that committed them (tracing on).
    const overrides =
      trace === undefined
        ? this.#options.overrides
        : { ...this.#options.overrides, traceparent: formatTraceparent(trace) };
    events.forEach((event, i) => {
      if (this.#queue.length >= this.#maxQueue) {
        this.#dropped++;
        const now = Date.now();
        if (now - this.#lastDropWarning > 10_000) {
          this.#lastDropWarning = now;
          this.#logger.warn("K_SINK queue full: dropping published events", { dropped: this.#dropped });
        }
        return;
      }
      this.#queue.push(
        domainEventToCloudEvent(
          {
            service: this.#options.service,
            typePrefix,
            entityType,
            entityId,
            version: firstVersion + i,
            event,
            time,
          },
          overrides,
        ),
      );
    });
    // Send from a later turn of the event loop: never on the command's own path.
    if (!this.#scheduled && this.#queue.length > 0) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#pump();
      });
    }
  }

  /** Resolves when the queue is empty and no request is in flight, or after `timeoutMs`. */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.#queue.length === 0 && this.#active === 0) return true;
    this.#pump();
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.#idle.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    return result;
  }

  #pump(): void {
    while (this.#active < this.#concurrency && this.#queue.length > 0) {
      const event = this.#queue.shift()!;
      this.#active++;
      void this.#send(event).finally(() => {
        this.#active--;
        if (this.#queue.length > 0) this.#pump();
        else if (this.#active === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
    }
  }

  async #send(event: OutgoingEvent): Promise<void> {
    try {
      const status = await this.#client.send(event);
      if (status >= 200 && status < 300) {
        this.#published++;
        return;
      }
      this.#failed++;
      this.#logger.warn("K_SINK refused a published event", { status, id: event.id, type: event.type });
    } catch (error) {
      this.#failed++;
      this.#logger.warn("publishing to K_SINK failed", { error, id: event.id, type: event.type });
    }
  }
}

import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../observability/logger.js";
import type { SinkMessage } from "../publish/sink-client.js";
import { retryable } from "./outbox-event.js";
import type { RelayOptions } from "./relay-options.js";
import type { OutboxEntry } from "./source.js";

/** How one entry's delivery ended: accepted by the sink, dead-lettered, or left (the relay stopped or lost the shard). */
export type Delivery = "published" | "dead" | "left";

export interface DeliveryContext {
  readonly options: RelayOptions;
  readonly logger: Logger;
  /** Counts one retry. */
  readonly retried: () => void;
  /** Whether this relay still relays the entry's shard (and runs). */
  readonly stillMine: (entry: OutboxEntry) => boolean;
}

/**
 * POSTs `message` (the encoded `entry`) until the sink accepts it, or refuses it `maxAttempts`
 * times with a status that is not worth retrying (then it goes to the dead-letter stream).
 * Retryable answers and network errors are retried without limit, with exponential backoff and
 * jitter, for as long as the entry's shard stays with this relay.
 */
export async function deliver(
  ctx: DeliveryContext,
  entry: OutboxEntry,
  message: SinkMessage,
): Promise<Delivery> {
  const { sink, source, maxAttempts, backoffMs } = ctx.options;
  const { id, type } = entry.message;
  let refused = 0;
  for (let attempt = 0; ; attempt++) {
    let status: number | undefined;
    let error: unknown;
    try {
      status = await sink.send(message);
    } catch (e) {
      error = e;
    }
    if (status !== undefined && status >= 200 && status < 300) return "published";
    if (status !== undefined && !retryable(status) && ++refused >= maxAttempts) {
      await source.deadLetter(entry, `K_SINK answered ${status}`);
      ctx.logger.error("outbox relay: the sink refused an event; moved to the dead-letter stream", {
        id,
        type,
        status,
        attempts: attempt + 1,
      });
      return "dead";
    }
    ctx.retried();
    if (attempt === 0 || attempt % 20 === 0) {
      ctx.logger.warn("outbox relay: publishing to K_SINK failed; retrying", {
        id,
        ...(status === undefined ? { error } : { status }),
      });
    }
    const delay =
      Math.min(backoffMs.max, backoffMs.base * 2 ** Math.min(attempt, 16)) * (0.5 + Math.random() / 2);
    await sleep(delay);
    if (!ctx.stillMine(entry)) return "left";
  }
}

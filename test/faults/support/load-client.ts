import { setTimeout as sleep } from "node:timers/promises";

/** The CloudEvent type of the ledger fixture's only command. */
export const RECORD_TYPE = "com.example.faults.ledger.record";
export const LOAD_SOURCE = "/faults/load";

/** One delivery attempt: an HTTP status, or how the exchange failed without one. */
export interface Attempt {
  readonly attempt: number;
  readonly host: string;
  readonly startedAt: number;
  readonly ms: number;
  readonly status: number | "network" | "timeout";
}

/** Everything the client knows about one logical command (one CloudEvent id). */
export interface LedgerEntry {
  readonly id: string;
  readonly entity: string;
  readonly attempts: Attempt[];
  /** Set on the first 2xx: the version the host said the command produced. */
  acked?: { readonly at: number; readonly version: number | undefined };
  /** Gave up: retries exhausted, or a status Knative does not retry. */
  abandoned?: boolean;
}

export interface LoadOptions {
  /** The hosts to send to, asked before every attempt (a scenario may remove a dead one). */
  readonly hosts: () => readonly string[];
  /** Prefix of entity ids and event ids: unique per scenario, so scenarios never share entities. */
  readonly prefix: string;
  readonly entities: number;
  /** Commands in flight at once. */
  readonly concurrency: number;
  /** Deliveries of one event, the first included (Knative's `retry` + 1). */
  readonly maxAttempts?: number;
  readonly backoffMs?: { readonly base: number; readonly max: number };
  /** The client abandons an attempt after this long (counted as `timeout`, then redelivered). */
  readonly attemptTimeoutMs?: number;
  /** Pause between two commands of one worker (0: back to back). */
  readonly thinkMs?: number;
}

/** Statuses Knative Eventing redelivers. */
export function isRetryable(status: number): boolean {
  return status >= 500 || status === 404 || status === 408 || status === 409 || status === 429;
}

/**
 * A steady CloudEvents load in the style of a Knative broker: each logical command gets a
 * unique id and is delivered until some host answers 2xx, with the same id on every attempt,
 * bounded exponential backoff and a bounded number of attempts. Every attempt goes into the
 * ledger, which the checker compares with what the store holds afterwards.
 */
export class LoadClient {
  readonly ledger: LedgerEntry[] = [];
  readonly #options: Required<LoadOptions>;
  #running = false;
  #workers: Array<Promise<void>> = [];
  #seq = 0;
  #nextHost = 0;

  constructor(options: LoadOptions) {
    this.#options = {
      maxAttempts: 40,
      backoffMs: { base: 50, max: 1000 },
      attemptTimeoutMs: 20_000,
      thinkMs: 0,
      ...options,
    };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (let w = 0; w < this.#options.concurrency; w++) this.#workers.push(this.#work());
  }

  /** Stops taking new commands and resolves when every started one is acknowledged or abandoned. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#workers);
    this.#workers = [];
  }

  /** The number of commands acknowledged so far. */
  get acked(): number {
    let n = 0;
    for (const entry of this.ledger) if (entry.acked) n++;
    return n;
  }

  /** Resolves once `count` more commands are acknowledged after the call, or rejects after `timeoutMs`. */
  async waitForAcks(count: number, timeoutMs: number): Promise<void> {
    const target = this.acked + count;
    const deadline = Date.now() + timeoutMs;
    while (this.acked < target) {
      if (Date.now() > deadline) {
        throw new Error(`load: ${this.acked} acknowledged, expected ${target} within ${timeoutMs}ms`);
      }
      await sleep(20);
    }
  }

  /** Entity ids the load used. */
  get entityIds(): string[] {
    return Array.from({ length: this.#options.entities }, (_, i) => this.#entityId(i));
  }

  #entityId(index: number): string {
    return `${this.#options.prefix}-e${index}`;
  }

  async #work(): Promise<void> {
    while (this.#running) {
      const seq = this.#seq++;
      const entry: LedgerEntry = {
        id: `${this.#options.prefix}-${seq}`,
        entity: this.#entityId(seq % this.#options.entities),
        attempts: [],
      };
      this.ledger.push(entry);
      await this.#deliver(entry);
      if (this.#options.thinkMs > 0) await sleep(this.#options.thinkMs);
    }
  }

  async #deliver(entry: LedgerEntry): Promise<void> {
    const { maxAttempts, backoffMs } = this.#options;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const hosts = this.#options.hosts();
      const host = hosts[this.#nextHost++ % Math.max(1, hosts.length)];
      if (host === undefined) {
        await sleep(backoffMs.max);
        continue;
      }
      const result = await this.#send(entry, host, attempt);
      entry.attempts.push(result.attempt);
      const status = result.attempt.status;
      if (typeof status === "number" && status >= 200 && status < 300) {
        entry.acked = { at: result.attempt.startedAt + result.attempt.ms, version: result.version };
        return;
      }
      if (typeof status === "number" && !isRetryable(status)) break;
      await sleep(Math.min(backoffMs.max, backoffMs.base * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
    }
    entry.abandoned = true;
  }

  async #send(
    entry: LedgerEntry,
    host: string,
    attempt: number,
  ): Promise<{ attempt: Attempt; version: number | undefined }> {
    const startedAt = Date.now();
    const done = (status: Attempt["status"], version?: number) => ({
      attempt: { attempt, host, startedAt, ms: Date.now() - startedAt, status },
      version,
    });
    try {
      const res = await fetch(host, {
        method: "POST",
        headers: {
          "ce-specversion": "1.0",
          "ce-id": entry.id,
          "ce-source": LOAD_SOURCE,
          "ce-type": RECORD_TYPE,
          "ce-subject": entry.entity,
          "content-type": "application/json",
        },
        body: JSON.stringify({ attempt }),
        signal: AbortSignal.timeout(this.#options.attemptTimeoutMs),
      });
      await res.arrayBuffer();
      const version = res.headers.get("ce-entityversion");
      return done(res.status, version === null ? undefined : Number(version));
    } catch (error) {
      const name = (error as { name?: string }).name;
      return done(name === "TimeoutError" || name === "AbortError" ? "timeout" : "network");
    }
  }
}

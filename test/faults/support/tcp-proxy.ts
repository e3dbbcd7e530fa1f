import { createConnection, createServer, type Server, type Socket } from "node:net";

/**
 * Runs callbacks at their due time, strictly in the order they were pushed (a chunk is never
 * overtaken by a later one, even when the latency drops): bytes of a TCP stream stay in order.
 */
class DelayQueue {
  readonly #items: Array<{ due: number; run: () => void }> = [];
  #timer: NodeJS.Timeout | undefined;

  push(due: number, run: () => void): void {
    this.#items.push({ due, run });
    if (this.#timer === undefined) this.#pump();
  }

  #pump(): void {
    this.#timer = undefined;
    const now = Date.now();
    while (this.#items.length > 0 && this.#items[0]!.due <= now) this.#items.shift()!.run();
    const head = this.#items[0];
    if (head !== undefined) this.#timer = setTimeout(() => this.#pump(), Math.max(1, head.due - now));
  }
}

interface Pair {
  readonly client: Socket;
  /** The first bytes the client sent (up to 1 KB), to tell one kind of connection from another. */
  intro: string;
  readonly upstream: Socket;
  /** Set when a matching request went through: the next reply bytes are dropped and the client reset. */
  resetOnReply: boolean;
  /** Bytes held while the link is blackholed, in order, per direction. */
  readonly held: { toUpstream: Buffer[]; toClient: Buffer[] };
  /** Chunks waiting for their latency, per direction, in order: one timer drains each queue. */
  readonly delayed: { toUpstream: DelayQueue; toClient: DelayQueue };
}

/**
 * A TCP proxy on 127.0.0.1 between the hosts and Redis that can misbehave on demand:
 * - `latencyMs`: every chunk waits this long, in both directions (order is kept);
 * - `blackhole(true)`: bytes are held, not delivered, until `blackhole(false)` (as a network
 *   partition looks to TCP: nothing arrives, nothing is lost if it heals);
 * - `resetAfterRequest(match, n)`: the next `n` requests containing `match` reach Redis and run,
 *   but the reply is dropped and the client's connection is reset (the outcome is unknown);
 * - `retarget(port)`: new connections go to another upstream; `dropAll()` resets the current ones.
 */
export class TcpProxy {
  readonly port: number;
  latencyMs = 0;
  resets = 0;
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  #targetPort: number;
  #blackholed = false;
  #blackholeOnly: string | undefined;
  #resetMatch: Buffer | undefined;
  #resetBudget = 0;

  private constructor(server: Server, port: number, targetPort: number) {
    this.#server = server;
    this.port = port;
    this.#targetPort = targetPort;
    server.on("connection", (client) => this.#accept(client));
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        resolve(typeof address === "object" && address ? address.port : 0);
      });
    });
    return new TcpProxy(server, port, targetPort);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get connections(): number {
    return this.#pairs.size;
  }

  retarget(port: number): void {
    this.#targetPort = port;
  }

  /**
   * Holds (`true`) or releases (`false`) the bytes of every connection, or only of connections
   * whose first bytes contain `only` (e.g. `PSYNC`: a replica's replication link).
   */
  blackhole(on: boolean, only?: string): void {
    this.#blackholed = on;
    this.#blackholeOnly = only;
    if (on) return;
    for (const pair of this.#pairs) {
      for (const chunk of pair.held.toUpstream.splice(0)) {
        this.#delay(pair, "toUpstream", () => this.#toUpstream(pair, chunk));
      }
      for (const chunk of pair.held.toClient.splice(0)) {
        this.#delay(pair, "toClient", () => this.#toClient(pair, chunk));
      }
    }
  }

  resetAfterRequest(match: string, count: number): void {
    this.#resetMatch = Buffer.from(match);
    this.#resetBudget = count;
  }

  /** Resets every open connection (clients see ECONNRESET). */
  dropAll(): void {
    for (const pair of this.#pairs) {
      pair.client.resetAndDestroy();
      pair.upstream.destroy();
    }
    this.#pairs.clear();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    const upstream = createConnection({ host: "127.0.0.1", port: this.#targetPort });
    const pair: Pair = {
      client,
      upstream,
      intro: "",
      resetOnReply: false,
      held: { toUpstream: [], toClient: [] },
      delayed: { toUpstream: new DelayQueue(), toClient: new DelayQueue() },
    };
    this.#pairs.add(pair);
    const end = () => {
      if (!this.#pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    client.on("data", (chunk: Buffer) => this.#fromClient(pair, chunk));
    upstream.on("data", (chunk: Buffer) => this.#fromUpstream(pair, chunk));
  }

  #held(pair: Pair): boolean {
    return (
      this.#blackholed && (this.#blackholeOnly === undefined || pair.intro.includes(this.#blackholeOnly))
    );
  }

  #fromClient(pair: Pair, chunk: Buffer): void {
    if (pair.intro.length < 1024) pair.intro += chunk.toString("latin1", 0, 1024 - pair.intro.length);
    if (
      !pair.resetOnReply &&
      this.#resetBudget > 0 &&
      this.#resetMatch !== undefined &&
      chunk.includes(this.#resetMatch)
    ) {
      this.#resetBudget--;
      pair.resetOnReply = true;
    }
    if (this.#held(pair)) pair.held.toUpstream.push(chunk);
    else this.#delay(pair, "toUpstream", () => this.#toUpstream(pair, chunk));
  }

  #fromUpstream(pair: Pair, chunk: Buffer): void {
    if (pair.resetOnReply) {
      // The request ran; its reply never arrives and the connection dies.
      this.resets++;
      this.#pairs.delete(pair);
      pair.client.resetAndDestroy();
      pair.upstream.destroy();
      return;
    }
    if (this.#held(pair)) pair.held.toClient.push(chunk);
    else this.#delay(pair, "toClient", () => this.#toClient(pair, chunk));
  }

  #toUpstream(pair: Pair, chunk: Buffer): void {
    if (!pair.upstream.destroyed) pair.upstream.write(chunk);
  }

  #toClient(pair: Pair, chunk: Buffer): void {
    if (!pair.client.destroyed) pair.client.write(chunk);
  }

  #delay(pair: Pair, direction: "toUpstream" | "toClient", fn: () => void): void {
    pair.delayed[direction].push(Date.now() + this.latencyMs, fn);
  }
}

import { createConnection, createServer, type Server, type Socket } from "node:net";

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Set when a matching request went through: the next reply bytes are dropped and the client reset. */
  resetOnReply: boolean;
  /** Bytes held while the link is blackholed, in order, per direction. */
  readonly held: { toUpstream: Buffer[]; toClient: Buffer[] };
  /** When the last delayed chunk is due, per direction, so a latency change never reorders bytes. */
  readonly due: { toUpstream: number; toClient: number };
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

  blackhole(on: boolean): void {
    this.#blackholed = on;
    if (on) return;
    for (const pair of this.#pairs) {
      for (const chunk of pair.held.toUpstream.splice(0)) this.#toUpstream(pair, chunk);
      for (const chunk of pair.held.toClient.splice(0)) this.#toClient(pair, chunk);
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
      resetOnReply: false,
      held: { toUpstream: [], toClient: [] },
      due: { toUpstream: 0, toClient: 0 },
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

  #fromClient(pair: Pair, chunk: Buffer): void {
    if (this.#resetBudget > 0 && this.#resetMatch && chunk.includes(this.#resetMatch)) {
      this.#resetBudget--;
      pair.resetOnReply = true;
    }
    if (this.#blackholed) pair.held.toUpstream.push(chunk);
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
    if (this.#blackholed) pair.held.toClient.push(chunk);
    else this.#delay(pair, "toClient", () => this.#toClient(pair, chunk));
  }

  #toUpstream(pair: Pair, chunk: Buffer): void {
    if (!pair.upstream.destroyed) pair.upstream.write(chunk);
  }

  #toClient(pair: Pair, chunk: Buffer): void {
    if (!pair.client.destroyed) pair.client.write(chunk);
  }

  #delay(pair: Pair, direction: "toUpstream" | "toClient", fn: () => void): void {
    const now = Date.now();
    const due = Math.max(now + this.latencyMs, pair.due[direction]);
    pair.due[direction] = due;
    if (due > now) setTimeout(fn, due - now);
    else fn();
  }
}

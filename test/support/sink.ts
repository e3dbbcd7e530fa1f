import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly status: number;
}

/**
 * A CloudEvents sink on loopback that records every request and answers with what `answer`
 * returns for it (202 by default); `answer` may be replaced while it runs.
 */
export async function startSink(answer: (headers: IncomingHttpHeaders) => number = () => 202) {
  const received: Received[] = [];
  const state = { answer };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const status = state.answer(req.headers);
      received.push({ headers: req.headers, body, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    received,
    /** Answers with `next` from now on. */
    answerWith(next: (headers: IncomingHttpHeaders) => number) {
      state.answer = next;
    },
    /** Ids of the events answered 2xx, in arrival order. */
    acceptedIds(): string[] {
      return received.filter((r) => r.status < 300).map((r) => String(r.headers["ce-id"]));
    },
    /** Resolves once `done()` holds (polling; the test's own timeout bounds it). */
    async until(done: () => boolean): Promise<void> {
      while (!done()) await new Promise((r) => setTimeout(r, 25));
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type Sink = Awaited<ReturnType<typeof startSink>>;

/** True when, for every entity, the first delivery of each version comes in increasing order. */
export function inEntityOrder(ids: readonly string[]): boolean {
  const last = new Map<string, number>();
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    const cut = id.lastIndexOf("/");
    const entity = id.slice(0, cut);
    const version = Number(id.slice(cut + 1));
    if ((last.get(entity) ?? 0) >= version) return false;
    last.set(entity, version);
  }
  return true;
}

import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { SinkClient } from "../../src/publish/sink-client.js";

interface Seen {
  readonly url: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server on loopback answering `status` after `delayMs` (never, when `hang`); counts its connections. */
async function server(options: { status?: number; hang?: boolean; delayMs?: number } = {}) {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const http: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      seen.push({ url: req.url, headers: req.headers, body });
      if (options.hang) return;
      setTimeout(() => res.writeHead(options.status ?? 202).end("ignored"), options.delayMs ?? 0);
    });
  });
  http.on("connection", (socket: Socket) => {
    connections++;
    sockets.add(socket);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => http.close(resolve));
  });
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    seen,
    connections: () => connections,
  };
}

function client(sink: string, options: { timeoutMs?: number; sockets?: number } = {}) {
  const c = new SinkClient({ sink, ...options });
  cleanups.push(() => c.close());
  return c;
}

describe("the K_SINK client", () => {
  it("POSTs the headers and body to the sink's path and query, and resolves with any status", async () => {
    const accepting = await server();
    const sent = { headers: { "ce-id": "cart/c1/1", "content-type": "application/json" }, body: '{"n":1}' };
    expect(await client(`${accepting.url}/ns/default?x=1`).send(sent)).toBe(202);
    expect(accepting.seen).toHaveLength(1);
    expect(accepting.seen[0]).toMatchObject({ url: "/ns/default?x=1", body: '{"n":1}' });
    expect(accepting.seen[0]!.headers).toMatchObject({
      "ce-id": "cart/c1/1",
      "content-type": "application/json",
    });
    const refusing = await server({ status: 503 });
    expect(await client(refusing.url).send(sent)).toBe(503);
  });

  it("keeps at most `sockets` connections open, reused across requests", async () => {
    const slow = await server({ delayMs: 20 });
    const c = client(slow.url, { sockets: 4 });
    const statuses = await Promise.all(Array.from({ length: 40 }, () => c.send({ headers: {}, body: "" })));
    expect(statuses).toEqual(Array.from({ length: 40 }, () => 202));
    expect(slow.seen).toHaveLength(40);
    expect(slow.connections()).toBeLessThanOrEqual(4);
  });

  it("rejects when no answer comes within the timeout, and when nothing listens", async () => {
    const hanging = await server({ hang: true });
    await expect(client(hanging.url, { timeoutMs: 200 }).send({ headers: {}, body: "x" })).rejects.toThrow();
    expect(hanging.seen).toHaveLength(1);
    const gone = await server();
    const url = gone.url;
    await cleanups.pop()!();
    await expect(client(url).send({ headers: {}, body: "" })).rejects.toThrow();
  });

  it("refuses a sink that is not http:// or https://", () => {
    expect(() => new SinkClient({ sink: "ftp://example.com/" })).toThrow(/http:\/\/ or https:\/\//);
  });
});

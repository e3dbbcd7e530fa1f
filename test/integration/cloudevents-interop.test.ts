import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { CloudEvent, HTTP, type Message } from "cloudevents";
import { afterEach, describe, expect, it } from "vitest";
import { spawnHost, startHost } from "../support/host.js";

/**
 * The CloudEvents SDK for JavaScript as the reference client and receiver: events it sends, in
 * binary and structured mode, are served; the replies and the events published to K_SINK are
 * events it accepts and validates.
 */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** POSTs an SDK message and reads the answer back as an SDK message. */
async function send(url: string, message: Message): Promise<{ status: number; message: Message }> {
  const res = await fetch(url, {
    method: "POST",
    headers: message.headers as Record<string, string>,
    body: message.body as string,
  });
  return {
    status: res.status,
    message: { headers: Object.fromEntries(res.headers), body: await res.text() },
  };
}

function increment(id: string, by: number): CloudEvent<{ by: number }> {
  return new CloudEvent({
    id,
    type: "com.example.counter.increment",
    source: "/interop/sdk",
    subject: "interop-1",
    datacontenttype: "application/json",
    data: { by },
  });
}

/** A K_SINK that hands every request to the SDK's receiver. */
async function startSdkSink() {
  const received: CloudEvent<unknown>[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const headers = req.headers as IncomingHttpHeaders & Record<string, string>;
      const event = HTTP.toEvent<unknown>({ headers, body });
      for (const one of Array.isArray(event) ? event : [event]) received.push(new CloudEvent<unknown>(one));
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("interoperability with the CloudEvents SDK", () => {
  it("serves events the SDK sends in binary and structured mode; the SDK reads the replies", async () => {
    const sink = await startSdkSink();
    cleanups.push(() => sink.close());
    // `knstate serve` with K_SINK: the outbox relay publishes what the commands committed.
    const running = await spawnHost({
      functions: ["counter"],
      env: { K_SINK: sink.url, K_SERVICE: "interop" },
    });
    cleanups.push(() => running.stop());

    const binary = await send(running.url, HTTP.binary(increment("b-1", 2)));
    const structured = await send(running.url, HTTP.structured(increment("s-1", 3)));
    expect(binary.status).toBe(200);
    expect(structured.status).toBe(200);
    const replies = [binary, structured].map(({ message }) => HTTP.toEvent(message) as CloudEvent<unknown>);
    for (const reply of replies) {
      expect(reply.validate()).toBe(true);
      expect(reply).toMatchObject({
        specversion: "1.0",
        type: "com.example.counter.increment.reply",
        source: "/interop/counter",
        subject: "interop-1",
      });
    }
    expect(replies.map((r) => r.data)).toEqual([{ value: 2 }, { value: 5 }]);
    // Binary mode carries extensions as header strings; the SDK reads them so.
    expect(replies.map((r) => Number(r.entityversion))).toEqual([1, 2]);
    expect(HTTP.isEvent(binary.message)).toBe(true);

    await expect.poll(() => sink.received.length, { timeout: 30_000, interval: 20 }).toBe(2);
    for (const event of sink.received) {
      expect(event.validate()).toBe(true);
      expect(event.type).toBe("com.example.counter.changed");
      expect(event.subject).toBe("interop-1");
    }
    expect(sink.received.map((e) => e.data)).toEqual([{ by: 2 }, { by: 3 }]);
  });

  it("answers a redelivery the SDK sends again with the same reply, applied once", async () => {
    const running = await startHost();
    cleanups.push(() => running.close());
    const event = increment("again-1", 4);
    const first = await send(running.url, HTTP.binary(event));
    const again = await send(running.url, HTTP.structured(event));
    expect([first.status, again.status]).toEqual([200, 200]);
    const [a, b] = [first, again].map(({ message }) => HTTP.toEvent(message) as CloudEvent<unknown>);
    expect(b!.data).toEqual(a!.data);
    expect(a!.data).toEqual({ value: 4 });
  });

  it("refuses at the ingress what the SDK's validation refuses: a problem, not a reply", async () => {
    const running = await startHost();
    cleanups.push(() => running.close());
    const message = HTTP.binary(increment("bad-1", 1));
    const headers = { ...message.headers } as Record<string, string>;
    delete headers["ce-source"];
    // The SDK's receiver builds the event and refuses it only when asked to validate it.
    const lenient = HTTP.toEvent({ headers, body: message.body }) as CloudEvent<unknown>;
    expect(() => lenient.validate()).toThrow(/source/);
    const res = await send(running.url, { headers, body: message.body });
    expect(res.status).toBe(400);
    expect(res.message.headers["content-type"]).toBe("application/problem+json");
    expect(HTTP.isEvent(res.message)).toBe(false);
  });
});

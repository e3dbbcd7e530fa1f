import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { compilePublish } from "../../src/entity/publish.js";
import { toCloudEvent } from "../../src/outbox/outbox-event.js";
import { parseCeOverrides } from "../../src/publish/ce-overrides.js";
import { postEvent, spawnHost, type HostProcess } from "../support/host.js";
import { makeCertificates, opensslAvailable } from "../support/tls.js";

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A local HTTP sink that records what it gets and answers `status` (or never, when `hang`). */
async function startSink(options: { status?: number; hang?: boolean } = {}) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      if (options.hang) return;
      res.writeHead(options.status ?? 202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    received,
    async waitFor(count: number, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`sink got ${received.length} of ${count} events`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("the K_SINK event contract", () => {
  it("maps an outbox entry to a deterministic CloudEvent", () => {
    const message = {
      id: "counter/c1/7",
      entityType: "counter",
      entityId: "c1",
      version: 7,
      type: "com.example.counter.changed",
      data: { by: 2 },
      time: "2026-01-01T00:00:00.000Z",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    };
    const event = toCloudEvent({ shard: 0, stream: "0", id: "1-0", message }, "counter", { tenant: "acme" });
    expect(event).toEqual({
      id: "counter/c1/7",
      source: "/counter/counter",
      type: "com.example.counter.changed",
      subject: "c1",
      time: "2026-01-01T00:00:00.000Z",
      extensions: { tenant: "acme", entityversion: 7, traceparent: message.traceparent },
      data: { by: 2 },
    });
  });

  it("publishes a value entity's new state under the name state", () => {
    const publish = compilePublish(true)!;
    expect(publish({ type: "$state", data: { name: "x" } })).toEqual({ type: "state", data: { name: "x" } });
  });

  it("parses K_CE_OVERRIDES and refuses to replace standard attributes", () => {
    expect(parseCeOverrides('{"extensions":{"tenant":"acme","additional":42}}')).toEqual({
      extensions: { tenant: "acme", additional: "42" },
      ignored: [],
    });
    expect(
      parseCeOverrides('{"extensions":{"type":"x","Bad-Name":"y","entityversion":"1","ok":"1"}}'),
    ).toEqual({ extensions: { ok: "1" }, ignored: ["type", "Bad-Name", "entityversion"] });
    expect(parseCeOverrides(undefined)).toEqual({ extensions: {}, ignored: [] });
    expect(() => parseCeOverrides("{not json")).toThrow(/K_CE_OVERRIDES is not JSON/);
    expect(() => parseCeOverrides('{"extensions":[1]}')).toThrow(/must look like/);
  });
});

describe("knstate serve with K_SINK", () => {
  let host: HostProcess | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  it("POSTs committed events to the sink as binary CloudEvents with the overrides", async () => {
    const sink = await startSink();
    cleanups.push(() => sink.close());
    host = await spawnHost({
      functions: ["counter", "shopping-cart"],
      env: {
        K_SINK: sink.url,
        K_SERVICE: "counter-svc",
        K_CE_OVERRIDES: '{"extensions":{"tenant":"acme","additional":"42"}}',
      },
    });
    for (const [i, by] of [3, -1].entries()) {
      const res = await postEvent(host.url, {
        id: `cmd-${i}`,
        type: by > 0 ? "com.example.counter.increment" : "com.example.counter.decrement",
        subject: "c-7",
        data: { by: Math.abs(by) },
      });
      expect(res.status).toBe(200);
    }
    await sink.waitFor(2);
    const byId = new Map(sink.received.map((r) => [r.headers["ce-id"], r]));
    const first = byId.get("counter/c-7/1")!;
    expect(first).toBeDefined();
    expect(first.headers).toMatchObject({
      "ce-specversion": "1.0",
      "ce-type": "com.example.counter.changed",
      "ce-source": "/counter-svc/counter",
      "ce-subject": "c-7",
      "ce-entityversion": "1",
      "ce-tenant": "acme",
      "ce-additional": "42",
      "content-type": "application/json",
    });
    expect(Date.parse(first.headers["ce-time"] as string)).not.toBeNaN();
    expect(JSON.parse(first.body)).toEqual({ by: 3 });
    expect(JSON.parse(byId.get("counter/c-7/2")!.body)).toEqual({ by: -1 });
    // A redelivered command commits nothing, so nothing more is published.
    const again = await postEvent(host.url, {
      id: "cmd-0",
      type: "com.example.counter.increment",
      subject: "c-7",
      data: { by: 3 },
    });
    expect(again.status).toBe(200);
    expect(await host.stop()).toBe(0);
    host = undefined;
    expect(sink.received).toHaveLength(2);
  });

  it.runIf(opensslAvailable("the TLS sink tests"))(
    "publishes to an https:// sink it trusts through K_CA_CERTS, and to none it does not",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "knstate-sink-tls-"));
      cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
      const files = makeCertificates(dir);
      const received: IncomingHttpHeaders[] = [];
      const server = createHttpsServer(
        { cert: readFileSync(files.cert), key: readFileSync(files.key) },
        (req, res) => {
          req.resume();
          req.on("end", () => {
            received.push(req.headers);
            res.writeHead(202).end();
          });
        },
      );
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      cleanups.push(() => new Promise((resolve) => server.close(resolve)));
      const sink = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;

      const run = async (env: Record<string, string>, id: string) => {
        const running = await spawnHost({ functions: ["counter"], env: { K_SINK: sink, ...env } });
        host = running;
        const res = await postEvent(running.url, {
          id,
          type: "com.example.counter.increment",
          subject: id,
          data: { by: 1 },
        });
        expect(res.status).toBe(200);
        expect(await running.stop()).toBe(0);
        host = undefined;
        return running.output();
      };
      // Trusted through K_CA_CERTS (the PEM itself, as a SinkBinding sets it).
      await run({ K_CA_CERTS: readFileSync(files.ca, "utf8") }, "tls-1");
      expect(received.map((h) => h["ce-id"])).toEqual(["counter/tls-1/1"]);
      // The wrong CA: the event is not sent (and the failure is logged), the command still succeeds.
      const output = await run({ K_CA_CERTS: readFileSync(files.other, "utf8") }, "tls-2");
      expect(received).toHaveLength(1);
      expect(output).toContain("publishing to K_SINK failed");
    },
  );

  it("refuses a malformed K_CA_CERTS or K_SINK_TIMEOUT at start", async () => {
    const sink = "https://127.0.0.1:1/";
    await expect(
      spawnHost({ functions: ["counter"], env: { K_SINK: sink, K_CA_CERTS: "not a certificate" } }),
    ).rejects.toThrow(/K_CA_CERTS must hold PEM certificates/);
    await expect(
      spawnHost({ functions: ["counter"], env: { K_SINK: sink, K_SINK_TIMEOUT: "soon" } }),
    ).rejects.toThrow(/K_SINK_TIMEOUT must be a number of seconds/);
  });

  it("refuses a malformed K_SINK at start", async () => {
    await expect(spawnHost({ functions: ["counter"], env: { K_SINK: "not a url" } })).rejects.toThrow(
      /K_SINK must be an absolute http\(s\) URL/,
    );
  });
});

import { randomBytes } from "node:crypto";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postEvent, spawnHost, type HostProcess } from "../support/host.js";
import { attr, startOtlpReceiver, type OtlpReceiver } from "../support/otlp.js";

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CONSUMER = 5;

/** Writes the names of the OpenTelemetry packages the process loaded to stderr when it exits. */
function moduleProbe(dir: string): string {
  const file = join(dir, "otel-probe.cjs");
  writeFileSync(
    file,
    `process.on("exit", () => {
  const names = new Set();
  for (const key of Object.keys(require.cache)) {
    const m = /@opentelemetry[\\\\/]([^\\\\/]+)/.exec(key);
    if (m) names.add(m[1]);
  }
  process.stderr.write("otel-packages: " + [...names].sort().join(",") + "\\n");
});
`,
  );
  return file;
}

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

const TRACERS = [
  { tracer: "knstate", protocol: "http/protobuf", env: {}, sdkLoaded: false },
  { tracer: "knstate", protocol: "http/json", env: {}, sdkLoaded: false },
  // B3 propagation is the SDK's: the same spans must come out of it.
  {
    tracer: "opentelemetry-sdk-node",
    protocol: "http/json",
    env: { OTEL_PROPAGATORS: "tracecontext,b3" },
    sdkLoaded: true,
  },
] as const;

describe.each(TRACERS)(
  "tracing with the $tracer tracer over $protocol",
  ({ tracer, protocol, env, sdkLoaded }) => {
    let receiver: OtlpReceiver;
    let dir: string;
    let host: HostProcess;
    const traceId = hex(16);
    const parentSpanId = hex(8);
    const httpTraceId = hex(16);
    const apiTraceId = hex(16);
    const unsampledTraceId = hex(16);
    let reply: Response;
    let unsampledReply: Response;
    let unsampledUnknown: Response;
    let unsampledApi: Response;
    let exitCode: number | string;
    let sink: Server;
    const published: IncomingHttpHeaders[] = [];

    beforeAll(async () => {
      receiver = await startOtlpReceiver();
      // Committed events are published to K_SINK and carry the command's trace on.
      sink = createServer((req, res) => {
        req.resume();
        req.on("end", () => {
          published.push(req.headers);
          res.writeHead(202).end();
        });
      });
      await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
      dir = mkdtempSync(join(tmpdir(), "knstate-tracing-"));
      host = await spawnHost({
        functions: ["counter"],
        env: {
          K_SERVICE: "counter-svc",
          K_REVISION: "counter-svc-00001",
          KNSTATE_LOG_LEVEL: "debug",
          K_SINK: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/`,
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          ...env,
          // Nothing is exported before shutdown: the spans below arrive only if SIGTERM flushes them.
          OTEL_BSP_SCHEDULE_DELAY: "60000",
          OTEL_NODE_RESOURCE_DETECTORS: "none",
          NODE_OPTIONS: `--require ${moduleProbe(dir)}`,
        },
      });
      // 1. The event's traceparent extension (binary mode: ce-traceparent) is continued.
      reply = await postEvent(
        host.url,
        { id: "evt-1", type: "com.example.counter.increment", subject: "c1", data: { by: 2 } },
        { "ce-traceparent": `00-${traceId}-${parentSpanId}-01`, "ce-tracestate": "vendor=abc" },
      );
      // 2. No extension: the HTTP traceparent header is continued instead.
      await postEvent(
        host.url,
        { id: "evt-2", type: "com.example.counter.increment", subject: "c2", data: { by: 1 } },
        { traceparent: `00-${httpTraceId}-${hex(8)}-01` },
      );
      // 3. The HTTP API: a server span per request.
      await fetch(`${host.url}/counter/c3/increment`, {
        method: "POST",
        headers: { "content-type": "application/json", traceparent: `00-${apiTraceId}-${hex(8)}-01` },
        body: JSON.stringify({ by: 5 }),
      });
      // 4. A parent that is not sampled: the context goes on, nothing is recorded (errors too).
      const unsampled = () => `00-${unsampledTraceId}-${hex(8)}-00`;
      unsampledReply = await postEvent(
        host.url,
        { id: "evt-4", type: "com.example.counter.increment", subject: "c4", data: { by: 1 } },
        { "ce-traceparent": unsampled() },
      );
      unsampledUnknown = await postEvent(
        host.url,
        { id: "evt-5", type: "com.example.counter.unknown", subject: "c4", data: {} },
        { "ce-traceparent": unsampled() },
      );
      unsampledApi = await fetch(`${host.url}/counter/c4/increment`, {
        method: "POST",
        headers: { "content-type": "application/json", traceparent: unsampled() },
        body: JSON.stringify({ by: 1 }),
      });
      // Probes make no spans.
      await fetch(`${host.url}/readyz`);
      exitCode = await host.stop("SIGTERM");
    }, 60_000);

    afterAll(async () => {
      await host?.stop("SIGKILL");
      await receiver?.close();
      sink?.closeAllConnections();
      await new Promise((resolve) => sink?.close(resolve));
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("answers with a reply whose traceparent continues the event's trace", () => {
      expect(reply.status).toBe(200);
      const traceparent = reply.headers.get("ce-traceparent");
      expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(traceparent!.split("-")[1]).toBe(traceId);
      expect(traceparent!.split("-")[2]).not.toBe(parentSpanId);
      expect(reply.headers.get("ce-tracestate")).toBe("vendor=abc");
      expect(exitCode).toBe(0);
    });

    it("exports one consumer span per event, child of the event's context, flushed on SIGTERM", () => {
      const inTrace = receiver.spans.filter((s) => s.traceId === traceId);
      const process = inTrace.find((s) => s.name === "process com.example.counter.increment");
      expect(process, JSON.stringify(receiver.spans.map((s) => s.name))).toBeDefined();
      expect(process!.kind).toBe(SPAN_KIND_CONSUMER);
      expect(process!.parentSpanId).toBe(parentSpanId);
      expect(reply.headers.get("ce-traceparent")!.split("-")[2]).toBe(process!.spanId);
      expect(attr(process!, "cloudevents.event_id")).toBe("evt-1");
      expect(attr(process!, "cloudevents.event_type")).toBe("com.example.counter.increment");
      expect(attr(process!, "cloudevents.event_source")).toBe("/test");
      expect(attr(process!, "cloudevents.event_subject")).toBe("c1");
      expect(attr(process!, "cloudevents.event_spec_version")).toBe("1.0");
      expect(attr(process!, "messaging.operation.type")).toBe("process");
      expect(attr(process!, "knstate.entity.type")).toBe("counter");
      expect(attr(process!, "knstate.command")).toBe("increment");
      expect(attr(process!, "knstate.entity.version")).toBe(1);
      // Never the event data.
      expect(JSON.stringify(process!.attributes)).not.toContain('"by"');

      // The handler's time is on the command's span; the steps that wait on the store are children.
      expect(attr(process!, "knstate.handler.duration_ms")).toBeGreaterThan(0);
      expect(attr(process!, "knstate.handler.runs")).toBeUndefined();
      const children = inTrace.filter((s) => s.parentSpanId === process!.spanId).map((s) => s.name);
      expect(children.sort()).toEqual(["append events", "load state"]);
      const load = inTrace.find((s) => s.name === "load state")!;
      expect(attr(load, "knstate.events_replayed")).toBe(0);
    });

    it("publishes committed events in the trace of the command that committed them", () => {
      const process = receiver.spans.find(
        (s) => s.traceId === traceId && s.name === "process com.example.counter.increment",
      )!;
      const event = published.find((h) => h["ce-id"] === "counter/c1/1");
      expect(event?.["ce-traceparent"]).toBe(`00-${traceId}-${process.spanId}-01`);
      expect(event?.traceparent).toBe(event?.["ce-traceparent"]);
    });

    it("carries an unsampled context on and records nothing under it", () => {
      expect(unsampledReply.status).toBe(200);
      const traceparent = unsampledReply.headers.get("ce-traceparent");
      expect(traceparent).toMatch(new RegExp(`^00-${unsampledTraceId}-[0-9a-f]{16}-00$`));
      expect(unsampledUnknown.status).toBe(400);
      expect(unsampledUnknown.headers.get("content-type")).toContain("application/problem+json");
      expect(unsampledApi.status).toBe(200);
      expect(receiver.spans.filter((s) => s.traceId === unsampledTraceId)).toEqual([]);
    });

    it("names the service and revision in the resource", () => {
      const text = JSON.stringify(receiver.resources);
      expect(text).toContain("counter-svc");
      expect(text).toContain("counter-svc-00001");
    });

    it("falls back to the HTTP traceparent when the event has none", () => {
      const process = receiver.spans.find((s) => s.traceId === httpTraceId && s.kind === SPAN_KIND_CONSUMER);
      expect(process?.name).toBe("process com.example.counter.increment");
      expect(attr(process!, "cloudevents.event_id")).toBe("evt-2");
    });

    it("traces an HTTP API command with a server span and its children", () => {
      const inTrace = receiver.spans.filter((s) => s.traceId === apiTraceId);
      const server = inTrace.find((s) => s.kind === SPAN_KIND_SERVER);
      expect(server?.name).toBe("POST /{entity}/{id}/{command}");
      expect(attr(server!, "http.response.status_code")).toBe(200);
      expect(attr(server!, "knstate.entity.type")).toBe("counter");
      expect(attr(server!, "knstate.command")).toBe("increment");
      expect(attr(server!, "knstate.handler.duration_ms")).toBeGreaterThan(0);
      const children = inTrace.filter((s) => s.parentSpanId === server!.spanId).map((s) => s.name);
      expect(children).toContain("append events");
    });

    it("writes the trace id and CloudEvent id on log lines", () => {
      const lines = host
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const command = lines.find((l) => l.msg === "command finished" && l.traceId === traceId);
      expect(command).toMatchObject({ level: "debug", entityType: "counter", ceId: "evt-1", outcome: "ok" });
      expect(lines.find((l) => l.msg === "tracing on")).toMatchObject({ endpoint: receiver.url, tracer });
      const probe = /otel-packages: (.*)/.exec(host.output());
      const sdkPackages = probe![1]!.split(",").filter((p) => p !== "api" && p !== "");
      if (sdkLoaded) expect(sdkPackages).toContain("sdk-node");
      else expect(sdkPackages).toEqual([]);
    });
  },
);

describe("tracing off", () => {
  it("loads no OpenTelemetry SDK module when no OTEL_* variable asks for traces", async () => {
    const dir = mkdtempSync(join(tmpdir(), "knstate-tracing-off-"));
    try {
      const host = await spawnHost({
        functions: ["counter"],
        env: { NODE_OPTIONS: `--require ${moduleProbe(dir)}`, KNSTATE_LOG_LEVEL: "info" },
      });
      const res = await postEvent(host.url, {
        id: "e1",
        type: "com.example.counter.increment",
        subject: "c1",
        data: { by: 1 },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("ce-traceparent")).toBeNull();
      expect(await host.stop("SIGTERM")).toBe(0);
      const probe = /otel-packages: (.*)/.exec(host.output());
      expect(probe, host.output()).not.toBeNull();
      // prom-client's process metrics load the (no-op) API package; nothing of the SDK.
      expect(probe![1]!.split(",").filter((p) => p !== "api" && p !== "")).toEqual([]);
      expect(host.output()).not.toContain("tracing on");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

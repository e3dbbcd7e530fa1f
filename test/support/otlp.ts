import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import protobuf from "protobufjs";

/** A span as the OTLP/JSON mapping spells it (ids in hex), whichever encoding it came in. */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
  links?: Array<{ traceId: string; spanId: string }>;
  status?: { code?: number; message?: string };
  flags?: number;
}

export interface OtlpRequest {
  resourceSpans: Array<{
    resource?: { attributes?: Array<{ key: string; value: Record<string, unknown> }> };
    scopeSpans?: Array<{ scope?: { name?: string; version?: string }; spans?: OtlpSpan[] }>;
  }>;
}

// The messages of opentelemetry/proto/collector/trace/v1/trace_service.proto that spans use,
// field numbers as published: an independent decoder for what the host sends.
const PROTO = `
syntax = "proto3";
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3;
  double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; } }
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }
message Status { string message = 2; int32 code = 3; }
message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4;
  uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
message Span { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; uint32 dropped_attributes_count = 10; repeated Link links = 13;
  Status status = 15; fixed32 flags = 16; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;
const ExportTraceServiceRequest = protobuf
  .parse(PROTO, { keepCase: false })
  .root.lookupType("ExportTraceServiceRequest");

/** Bytes fields (ids) as hex, as in the OTLP/JSON mapping; an empty parent id is no parent. */
function idsToHex(value: unknown, key?: string): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("hex");
  if (Array.isArray(value)) return value.map((v) => idsToHex(v));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const converted = idsToHex(v, k);
      if (k === "parentSpanId" && converted === "") continue;
      out[k] = converted;
    }
    return out;
  }
  void key;
  return value;
}

/** Decodes an OTLP/HTTP trace export, protobuf or JSON, into the OTLP/JSON shape. */
export function decodeTraceExport(body: Buffer, contentType: string | undefined): OtlpRequest {
  if (contentType?.includes("json")) return JSON.parse(body.toString("utf8")) as OtlpRequest;
  const message = ExportTraceServiceRequest.decode(body);
  const object = ExportTraceServiceRequest.toObject(message, {
    longs: String,
    bytes: Uint8Array,
    defaults: false,
  });
  return idsToHex(object) as OtlpRequest;
}

export interface OtlpReceiver {
  readonly url: string;
  readonly spans: OtlpSpan[];
  readonly resources: unknown[];
  /** Every request: its headers and decoded body. */
  readonly requests: Array<{ headers: Record<string, string | string[] | undefined>; body: OtlpRequest }>;
  /** Statuses to answer with before accepting (e.g. [503, 503]: two failures, then 200). */
  failNext(statuses: number[]): void;
  close(): Promise<void>;
}

/** A minimal OTLP/HTTP collector on loopback: collects every span posted to /v1/traces. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: OtlpSpan[] = [];
  const resources: unknown[] = [];
  const requests: OtlpReceiver["requests"] = [];
  let failures: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const failure = failures.shift();
      if (failure !== undefined) {
        res.writeHead(failure, { "retry-after": "0" });
        res.end();
        return;
      }
      if (req.url === "/v1/traces") {
        let raw = Buffer.concat(chunks);
        if (req.headers["content-encoding"] === "gzip") raw = gunzipSync(raw);
        const body = decodeTraceExport(raw, req.headers["content-type"]);
        requests.push({ headers: req.headers, body });
        for (const rs of body.resourceSpans ?? []) {
          resources.push(rs.resource);
          for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
        }
      }
      const json = req.headers["content-type"]?.includes("json");
      res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" });
      res.end(json ? "{}" : "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    resources,
    requests,
    failNext: (statuses) => (failures = [...statuses]),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The value of a span attribute (ints as numbers, in either encoding). */
export function attr(span: OtlpSpan, key: string): unknown {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  if (value === undefined) return undefined;
  if ("intValue" in value) return Number(value.intValue);
  return value.stringValue ?? value.boolValue ?? value.doubleValue;
}

import { connect } from "node:net";

/** One piece of what the client writes, optionally after a pause. */
export interface RawPart {
  readonly data: string | Buffer;
  readonly delayMs?: number;
}

export interface RawResponse {
  /** 0 when the server closed the connection without answering. */
  readonly status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** True when the server closed the connection (before or after answering). */
  readonly closed: boolean;
  /** True when nothing conclusive happened within the timeout. */
  readonly timedOut: boolean;
  readonly elapsedMs: number;
}

export interface RawOptions {
  /** Give up after this long (default 5 s); the result then has `timedOut: true`. */
  readonly timeoutMs?: number;
  /** Half-close the socket after the last part (default false: keep it open like a real client). */
  readonly endAfterWrite?: boolean;
}

/**
 * Writes raw bytes to `127.0.0.1:port` and parses one HTTP/1.1 response (status line, headers,
 * a `Content-Length` or chunked body, or a body up to the close). Nothing is normalised, so
 * tests can send what no well-behaved client would: lying lengths, duplicate headers, invalid
 * bytes, slow headers.
 */
export function rawExchange(
  port: number,
  parts: readonly RawPart[] | string | Buffer,
  options: RawOptions = {},
): Promise<RawResponse> {
  const list: readonly RawPart[] =
    typeof parts === "string" || Buffer.isBuffer(parts) ? [{ data: parts }] : parts;
  const timeoutMs = options.timeoutMs ?? 5000;
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let received = Buffer.alloc(0);
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (closed: boolean, timedOut: boolean) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      socket.destroy();
      const parsed = parseResponse(received, true);
      resolve({
        status: parsed?.status ?? 0,
        headers: parsed?.headers ?? {},
        body: parsed?.body ?? Buffer.alloc(0),
        closed,
        timedOut,
        elapsedMs: performance.now() - started,
      });
    };
    timers.push(setTimeout(() => finish(false, true), timeoutMs));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const parsed = parseResponse(received, false);
      // A response that announces `Connection: close` is complete when the server closes.
      if (parsed !== undefined && parsed.headers.connection?.toLowerCase() !== "close") finish(false, false);
    });
    socket.on("close", () => finish(true, false));
    socket.on("error", () => finish(true, false));
    socket.once("connect", () => {
      let at = 0;
      list.forEach((part, i) => {
        at += part.delayMs ?? 0;
        const write = () => {
          if (done || socket.destroyed) return;
          socket.write(part.data);
          if (i === list.length - 1 && options.endAfterWrite) socket.end();
        };
        if (at === 0) write();
        else timers.push(setTimeout(write, at));
      });
    });
  });
}

/** A request with the given headers, in order and verbatim; `Content-Length` is added unless given or chunked. */
export function rawRequest(
  port: number,
  request: {
    method?: string;
    path?: string;
    headers?: ReadonlyArray<readonly [string, string]>;
    body?: string | Buffer;
  },
  options: RawOptions = {},
): Promise<RawResponse> {
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body);
  const headers = [...(request.headers ?? [])];
  const has = (name: string) => headers.some(([n]) => n.toLowerCase() === name);
  if (!has("host")) headers.unshift(["Host", `127.0.0.1:${port}`]);
  if (!has("content-length") && !has("transfer-encoding"))
    headers.push(["Content-Length", String(body.length)]);
  const head = `${request.method ?? "POST"} ${request.path ?? "/"} HTTP/1.1\r\n${headers
    .map(([n, v]) => `${n}: ${v}\r\n`)
    .join("")}\r\n`;
  return rawExchange(port, Buffer.concat([Buffer.from(head, "latin1"), body]), options);
}

/** Parses a response; `undefined` while it is incomplete (unless `atClose`, when the rest is the body). */
function parseResponse(
  bytes: Buffer,
  atClose: boolean,
): { status: number; headers: Record<string, string>; body: Buffer } | undefined {
  const end = bytes.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const lines = bytes.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
  // An interim response (100 Continue) precedes the real one.
  if (status >= 100 && status < 200 && status !== 101) return parseResponse(bytes.subarray(end + 4), atClose);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const rest = bytes.subarray(end + 4);
  if (headers["content-length"] !== undefined) {
    const length = Number(headers["content-length"]);
    if (rest.length < length) return atClose ? { status, headers, body: rest } : undefined;
    return { status, headers, body: rest.subarray(0, length) };
  }
  if (headers["transfer-encoding"]?.toLowerCase().includes("chunked")) {
    const body = dechunk(rest);
    if (body === undefined) return atClose ? { status, headers, body: rest } : undefined;
    return { status, headers, body };
  }
  if (status === 204 || status === 304 || status === 101) {
    return { status, headers, body: Buffer.alloc(0) };
  }
  return atClose ? { status, headers, body: rest } : undefined;
}

function dechunk(bytes: Buffer): Buffer | undefined {
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf("\r\n", at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(bytes.subarray(at, lineEnd).toString("latin1"), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return Buffer.concat(chunks);
    const start = lineEnd + 2;
    if (bytes.length < start + size + 2) return undefined;
    chunks.push(bytes.subarray(start, start + size));
    at = start + size + 2;
  }
}

/** The response body as JSON, or `undefined` when it is not JSON. */
export function jsonOf(response: RawResponse): unknown {
  try {
    return JSON.parse(response.body.toString("utf8"));
  } catch {
    return undefined;
  }
}

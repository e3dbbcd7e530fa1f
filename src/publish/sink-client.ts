import type { Agent } from "node:http";
import { DEFAULTS } from "../config/defaults.js";
import { toBinary, type OutgoingEvent } from "../cloudevents/reply.js";
import { post, postTarget, type PostTarget } from "../net/post.js";

export interface SinkClientOptions {
  /** `K_SINK`. */
  readonly sink: string;
  /** `K_CA_CERTS`: PEM certificates to trust for an `https://` sink, besides the usual roots. */
  readonly caCerts?: string | undefined;
  /** Timeout of one POST (`K_SINK_TIMEOUT`). */
  readonly timeoutMs?: number | undefined;
  /** Sockets kept open to the sink. */
  readonly sockets?: number | undefined;
}

/** POSTs CloudEvents to `K_SINK` in binary mode over a keep-alive connection. */
export class SinkClient {
  readonly #options: SinkClientOptions;
  readonly #url: URL;
  /** The sink's request options, worked out once rather than from the URL on every POST. */
  readonly #target: PostTarget;
  readonly #timeoutMs: number;
  #transport: Promise<Transport> | undefined;

  constructor(options: SinkClientOptions) {
    this.#options = options;
    this.#url = new URL(options.sink);
    this.#target = postTarget(this.#url);
    this.#timeoutMs = options.timeoutMs ?? DEFAULTS.sinkTimeoutMs;
  }

  /** One POST of `event`; resolves with the status (the response body is discarded), rejects on a network error. */
  async send(event: OutgoingEvent): Promise<number> {
    const { headers, body } = toBinary(event);
    const traceparent = event.extensions.traceparent;
    const { request, agent } = await (this.#transport ??= transport(
      this.#url,
      this.#options.caCerts,
      Math.max(1, this.#options.sockets ?? DEFAULTS.sinkConcurrency),
    ));
    if (typeof traceparent === "string") headers.traceparent = traceparent;
    return (await post(this.#target, body, { request, agent, headers, timeoutMs: this.#timeoutMs })).status;
  }
}

interface Transport {
  readonly request: typeof import("node:http").request;
  readonly agent: Agent;
}

/** node:http or node:https with a keep-alive agent; `caCerts` are trusted besides the usual roots. */
async function transport(url: URL, caCerts: string | undefined, sockets: number): Promise<Transport> {
  if (url.protocol === "http:") {
    const http = await import("node:http");
    return { request: http.request, agent: new http.Agent({ keepAlive: true, maxSockets: sockets }) };
  }
  const [https, tls] = await Promise.all([import("node:https"), import("node:tls")]);
  const ca = caCerts === undefined ? undefined : [...tls.rootCertificates, caCerts];
  return {
    request: https.request,
    agent: new https.Agent({ keepAlive: true, maxSockets: sockets, ...(ca ? { ca } : {}) }),
  };
}

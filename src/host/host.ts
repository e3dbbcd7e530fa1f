import { randomUUID } from "node:crypto";
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { Component } from "../entity/define.js";
import type { HostConfig } from "../config/host-config.js";
import { HostError, toHostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import { sendProblem } from "../http/problem-response.js";
import { commandPath, createCommandRoute } from "../http/command-route.js";
import { createIngress } from "../http/ingress.js";
import { silentLogger, type Logger } from "../observability/logger.js";
import { MemoryStore } from "../store/memory-store.js";
import type { StateStore } from "../store/state-store.js";
import { afterStartup } from "./after-startup.js";
import { Dispatcher } from "./dispatcher.js";
import { EventHandler } from "./event-handler.js";
import type { PipelineObserver } from "./observer.js";
import { Registry } from "./registry.js";

export interface HostOptions {
  readonly config: HostConfig;
  readonly components: readonly Component[];
  /** The state store; the embedded memory store when absent. */
  readonly store?: StateStore;
  readonly logger?: Logger;
  readonly observer?: PipelineObserver;
  /**
   * Wraps the handling of every request on the public port (tracing hooks in here); gets the
   * kind of request so probes can be left alone.
   */
  readonly wrapRequest?: (
    kind: "cloudevent" | "api" | "probe",
    req: IncomingMessage,
    res: ServerResponse,
    next: () => Promise<void> | void,
  ) => Promise<void> | void;
}

export type HostState = "created" | "listening" | "draining" | "closed";

export interface Host {
  readonly registry: Registry;
  readonly dispatcher: Dispatcher;
  readonly store: StateStore;
  readonly server: Server;
  readonly state: HostState;
  /** Resolves with the bound port (useful with port 0). */
  listen(port?: number, host?: string): Promise<number>;
  /** Readiness turns 503, the server stops accepting, in-flight commands finish, the store closes. */
  close(): Promise<void>;
}

/**
 * One `node:http` server: `POST /` goes to the lean CloudEvents ingress, the probes are answered
 * in place, and everything else goes to the express app of the HTTP API.
 */
export function createHost(options: HostOptions): Host {
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  const store = options.store ?? new MemoryStore();
  const registry = new Registry(options.components);
  const dispatcher = new Dispatcher({
    store,
    cache: { enabled: config.cache, maxEntities: config.cacheMaxEntities, maxBytes: config.cacheMaxBytes },
    groupCommit: { enabled: config.groupCommit, maxBatch: Math.max(1, config.groupCommitMax) },
    conflictRetries: config.conflictRetries,
    retryBackoffMs: { base: 2, max: 100 },
    dedupTtlMs: config.dedupTtlMs,
    newId: randomUUID,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  const handler = new EventHandler({
    registry,
    dispatcher,
    service: config.service,
    newId: randomUUID,
    observer: options.observer,
  });
  const ingress = createIngress({ handler, bodyLimitBytes: config.bodyLimitBytes, logger });
  const commandRoute = createCommandRoute({
    registry,
    dispatcher,
    bodyLimitBytes: config.bodyLimitBytes,
    logger,
  });
  // The express app of the HTTP API is loaded shortly after the server listens, off the
  // cold-start path of the first commands; a request that needs it sooner loads it at once.
  let appLoading: Promise<RequestListener> | undefined;
  const loadApp = () =>
    (appLoading ??= import("../http/app.js").then(
      ({ createApp }) =>
        createApp({
          registry,
          dispatcher,
          store,
          bodyLimitBytes: config.bodyLimitBytes,
          logger,
        }) as RequestListener,
    ));
  const app = (req: IncomingMessage, res: ServerResponse) => {
    loadApp().then(
      (listener) => listener(req, res),
      (error: unknown) => {
        logger.error("the HTTP API could not be loaded", { error });
        sendProblem(res, toHostError(error));
      },
    );
  };
  let state: HostState = "created";
  const wrap = options.wrapRequest;

  const readiness = async (res: ServerResponse) => {
    if (state !== "listening") return sendHealth(res, 503, { status: "shutting down" });
    try {
      await withTimeout(store.ping(), 1000, "store did not answer within 1s");
      options.observer?.storeAvailability?.(true);
      sendHealth(res, 200, { status: "ready", store: store.name });
    } catch (error) {
      options.observer?.storeAvailability?.(false);
      sendHealth(res, 503, {
        status: "store unavailable",
        store: store.name,
        detail: (error as Error).message,
      });
    }
  };

  let inFlight = 0;
  let lastActivity = 0;
  const onResponseClosed = () => {
    inFlight--;
    lastActivity = performance.now();
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    lastActivity = performance.now();
    res.once("close", onResponseClosed);
    // While draining, answer and then close the connection so clients move to another replica.
    if (state === "draining") res.setHeader("connection", "close");
    const url = req.url ?? "/";
    if (req.method === "POST" && (url === "/" || url.startsWith("/?"))) {
      if (wrap) void wrap("cloudevent", req, res, () => ingress(req, res));
      else void ingress(req, res);
    } else if (req.method === "GET" && (url === "/healthz" || url === "/livez")) {
      sendHealth(res, 200, { status: "alive" });
    } else if (req.method === "GET" && url === "/readyz") {
      void readiness(res);
    } else {
      // The HTTP API: commands on the lean path, the rest in the express app.
      const command = req.method === "POST" ? commandPath(url) : undefined;
      const serve = () => (command === undefined ? app(req, res) : commandRoute(req, res, command));
      if (wrap) void wrap("api", req, res, serve);
      else void serve();
    }
  };

  const server = createServer(
    {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: Math.min(config.requestTimeoutMs, 10_000),
      // Node enforces the timeouts when it sweeps connections; sweep often enough for short ones.
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(config.requestTimeoutMs / 4))),
    },
    onRequest,
  );
  server.keepAliveTimeout = 65_000;
  // `Expect: 100-continue`: refuse an oversized body before the client sends it.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (Number(req.headers["content-length"]) > config.bodyLimitBytes) {
      sendProblem(
        res,
        new HostError(Problem.payloadTooLarge, `the body is larger than ${config.bodyLimitBytes} bytes`),
      );
      return;
    }
    res.writeContinue();
    onRequest(req, res);
  });
  // Malformed HTTP (bad framing, control bytes, timeouts) never reaches a handler: answer it in
  // the same problem format, then close the connection.
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || error.code === "ECONNRESET") {
      socket.destroy();
      return;
    }
    const problem =
      error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? Problem.requestTimeout
        : error.code === "HPE_HEADER_OVERFLOW"
          ? Problem.headersTooLarge
          : Problem.invalidRequest;
    const { type, status, title } = problem;
    const body = JSON.stringify({ type, title, status, detail: "the HTTP request could not be read" });
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
  });

  return {
    registry,
    dispatcher,
    store,
    server,
    get state() {
      return state;
    },
    listen(port = config.port, host = config.host) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          state = "listening";
          void afterStartup(loadApp).catch(() => undefined);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    async close() {
      if (state === "closed" || state === "draining") return;
      state = "draining";
      // Knative sends SIGTERM once its queue-proxy has drained, but a late request may still
      // come: keep serving (each answer closes its connection) until nothing has been in flight
      // for a quiet moment, then stop listening, let open requests finish, and close the store.
      const deadline = performance.now() + config.shutdownTimeoutMs;
      const quietMs = Math.min(300, config.shutdownTimeoutMs);
      while (performance.now() < deadline && (inFlight > 0 || performance.now() - lastActivity < quietMs)) {
        await sleep(10);
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const remaining = () => Math.max(0, deadline - performance.now());
      await withTimeout(closed, remaining() + 1000, "").catch(() => server.closeAllConnections());
      if (!(await dispatcher.drain(remaining()))) {
        logger.warn("shutdown deadline passed with commands in flight", { inFlight: dispatcher.active });
      }
      await store.close();
      state = "closed";
    },
  };
}

function sendHealth(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

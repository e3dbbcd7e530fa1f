import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { Logger } from "../observability/logger.js";
import { listenOn } from "./listen.js";
import { answerApiFailure, clientErrorProblem, sendProblem, sendProblemOnSocket } from "./problem.js";
import type { RequestWrapper, Router } from "./router.js";
import { withTimeout } from "./probes.js";

export interface HttpServerOptions {
  readonly router: Router;
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  /** The longest a request's headers and body may take to arrive (408 after it). */
  readonly requestTimeoutMs: number;
  /** The longest the headers may take (capped by `requestTimeoutMs`); 10 s when absent. */
  readonly headersTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open; 65 s (above the queue-proxy's) when absent. */
  readonly keepAliveTimeoutMs?: number;
  /** While draining, how long without a request before the port closes; 300 ms when absent. */
  readonly drainQuietMs?: number;
  readonly wrapRequest?: RequestWrapper | undefined;
}

export interface HttpServer {
  readonly server: Server;
  /** Resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  /**
   * Keeps serving (each answer closes its connection) until nothing has been in flight for a
   * quiet moment, then stops listening and lets open requests finish, all by `deadline`
   * (a `performance.now()` time); open connections are cut a second after it.
   */
  drain(deadline: number): Promise<void>;
}

/**
 * The `node:http` server of the serving port: every request goes through the router;
 * `Expect: 100-continue` refuses an oversized body before it is sent; malformed HTTP is
 * answered with a problem and the connection closed.
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { router, logger, bodyLimitBytes, requestTimeoutMs } = options;
  const { headersTimeoutMs = 10_000, keepAliveTimeoutMs = 65_000, drainQuietMs = 300 } = options;
  const route = router.listener(options.wrapRequest, (req, res, error, headers) =>
    answerApiFailure(logger, req, res, error, headers),
  );
  let draining = false;
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
    if (draining) res.setHeader("connection", "close");
    route(req, res);
  };

  const server = createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(requestTimeoutMs, headersTimeoutMs),
      // Node enforces the timeouts when it sweeps connections; sweep often enough for short ones.
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(requestTimeoutMs / 4))),
    },
    onRequest,
  );
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    if (Number(req.headers["content-length"]) > bodyLimitBytes) {
      sendProblem(
        res,
        new HostError(Problem.payloadTooLarge, `the body is larger than ${bodyLimitBytes} bytes`),
      );
      return;
    }
    res.writeContinue();
    onRequest(req, res);
  });
  // Malformed HTTP (bad framing, control bytes, timeouts) never reaches a handler.
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || error.code === "ECONNRESET") {
      socket.destroy();
      return;
    }
    sendProblemOnSocket(socket, clientErrorProblem(error.code), "the HTTP request could not be read");
  });

  return {
    server,
    listen(port, host) {
      return listenOn(server, port, host);
    },
    async drain(deadline) {
      draining = true;
      // Knative sends SIGTERM once its queue-proxy has drained, but a late request may still come.
      const quietMs = Math.min(drainQuietMs, Math.max(0, deadline - performance.now()));
      while (performance.now() < deadline && (inFlight > 0 || performance.now() - lastActivity < quietMs)) {
        await sleep(10);
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const remaining = Math.max(0, deadline - performance.now());
      await withTimeout(closed, remaining + 1000, "").catch(() => server.closeAllConnections());
    },
  };
}

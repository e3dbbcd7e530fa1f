import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";
import type { Logger } from "../observability/logger.js";
import { listenOn } from "./listen.js";

export interface MetricsServer {
  readonly server: Server;
  /** Resolves with the bound port (useful with port 0). */
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * `GET /metrics` (Prometheus text format) on a port of its own: a Knative route only reaches
 * the container's serving port, so the metrics are never public. Anything else is a 404. The
 * registry may still be loading when the port opens: a scrape then waits for it.
 */
export function createMetricsServer(registry: Registry | Promise<Registry>, logger: Logger): MetricsServer {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found: GET /metrics\n");
      return;
    }
    let contentType = "text/plain";
    Promise.resolve(registry)
      .then((ready) => {
        contentType = ready.contentType;
        return ready.metrics();
      })
      .then(
        (text) => {
          res.writeHead(200, {
            "content-type": contentType,
            "content-length": Buffer.byteLength(text),
          });
          res.end(req.method === "HEAD" ? undefined : text);
        },
        (error: unknown) => {
          logger.error("collecting metrics failed", { error });
          res.writeHead(500, { "content-type": "text/plain" });
          res.end("collecting metrics failed\n");
        },
      );
  });
  server.keepAliveTimeout = 65_000;
  return {
    server,
    listen(port, host) {
      return listenOn(server, port, host);
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

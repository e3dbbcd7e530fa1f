import type { Logger } from "../observability/logger.js";
import { addProbes, type ProbeOptions } from "./probes.js";
import { Router } from "./router.js";
import { createHttpServer } from "./server.js";

export interface ProbeServerOptions {
  readonly store: ProbeOptions["store"];
  readonly pingTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
}

/** A port that answers only the probes, for a process with no API (`knstate relay`). */
export interface ProbeServer {
  /** Resolves with the bound port (useful with port 0); `/readyz` answers 200 from then on. */
  listen(port: number, host: string): Promise<number>;
  /** Turns `/readyz` to 503, then stops listening once the probes in flight are answered. */
  close(): Promise<void>;
}

/** `/healthz`, `/livez` and `/readyz` (the store answers its ping) on a server of their own. */
export function createProbeServer(options: ProbeServerOptions): ProbeServer {
  let serving = false;
  const router = new Router();
  addProbes(router, { serving: () => serving, store: options.store, pingTimeoutMs: options.pingTimeoutMs });
  const http = createHttpServer({
    router,
    logger: options.logger,
    bodyLimitBytes: 0,
    requestTimeoutMs: options.requestTimeoutMs,
    drainQuietMs: 0,
  });
  return {
    async listen(port, host) {
      const bound = await http.listen(port, host);
      serving = true;
      return bound;
    },
    async close() {
      serving = false;
      await http.drain(performance.now() + 1000);
    },
  };
}

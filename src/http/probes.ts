import type { ServerResponse } from "node:http";
import type { Router } from "./router.js";

export interface ProbeOptions {
  /** False once the host drains: readiness turns 503 so no new traffic is routed here. */
  readonly serving: () => boolean;
  /** The store's name and its ping (rejects with the reason when it cannot serve). */
  readonly store: { readonly name: string; ping(): Promise<void> };
  readonly pingTimeoutMs?: number;
  readonly onStoreAvailability?: ((available: boolean) => void) | undefined;
}

/**
 * The probes: `GET /healthz` and `/livez` (the process answers), `GET /readyz` (serving and
 * the store answers its ping within `pingTimeoutMs`, a second by default).
 */
export function addProbes(router: Router, options: ProbeOptions): void {
  const { serving, store, onStoreAvailability } = options;
  const pingTimeoutMs = options.pingTimeoutMs ?? 1000;
  const alive = (_req: unknown, res: ServerResponse) => sendHealth(res, 200, { status: "alive" });
  router.add("GET", "/healthz", "probe", alive);
  router.add("GET", "/livez", "probe", alive);
  router.add("GET", "/readyz", "probe", async (_req, res) => {
    if (!serving()) return sendHealth(res, 503, { status: "shutting down" });
    try {
      await withTimeout(store.ping(), pingTimeoutMs, `store did not answer within ${pingTimeoutMs / 1000}s`);
      onStoreAvailability?.(true);
      sendHealth(res, 200, { status: "ready", store: store.name });
    } catch (error) {
      onStoreAvailability?.(false);
      sendHealth(res, 503, {
        status: "store unavailable",
        store: store.name,
        detail: (error as Error).message,
      });
    }
  });
}

function sendHealth(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** `promise`, or a rejection with `message` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

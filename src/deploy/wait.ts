/** A status condition of a Kubernetes object (`Ready`, a Deployment's `Available`, …). */
export interface Condition {
  readonly type: string;
  readonly status: "True" | "False" | "Unknown";
  readonly reason?: string | undefined;
  readonly message?: string | undefined;
}

/** What `waitFor` reads of an object: is its current generation observed, and is it Ready. */
export interface Readiness {
  readonly generation: number | undefined;
  readonly observedGeneration: number | undefined;
  readonly ready: Condition | undefined;
}

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  readonly progress?: (line: string) => void;
}

/**
 * Polls `read` until the object's current generation is Ready; throws when it turns Ready=False
 * or the timeout passes. `progress` gets a line whenever what it would say changes.
 */
export async function waitFor<T extends Readiness>(
  read: () => Promise<T>,
  what: string,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last = "";
  for (;;) {
    const status = await read();
    const current =
      status.generation === undefined ||
      (status.observedGeneration !== undefined && status.observedGeneration >= status.generation);
    const ready = status.ready;
    const line = current
      ? `${ready?.status === "True" ? "ready" : "waiting"}: ${ready?.reason ?? ready?.status ?? "no Ready condition yet"}${ready?.message ? ` (${ready.message})` : ""}`
      : `waiting: generation ${status.generation} not observed yet`;
    if (line !== last) options.progress?.(line);
    last = line;
    if (current && ready?.status === "True") return status;
    if (current && ready?.status === "False") {
      throw new Error(
        `${what} is not ready: ${ready.reason ?? "unknown reason"}${ready.message ? `: ${ready.message}` : ""}`,
      );
    }
    if (Date.now() >= deadline) {
      throw new Error(`${what} was not ready after ${Math.round(options.timeoutMs / 1000)}s (${line})`);
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(options.intervalMs ?? 1000, Math.max(0, deadline - Date.now()))),
    );
  }
}

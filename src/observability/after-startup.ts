/**
 * How long after the host listens it waits before loading what the first requests do not need
 * (prom-client). On a cold start Knative sends the requests it held the moment the host is
 * ready; loading modules then would queue them behind it.
 */
export const AFTER_STARTUP_MS = 250;

/** Runs `work` `AFTER_STARTUP_MS` from now; the wait does not keep the process alive. */
export function afterStartup<T>(work: () => Promise<T>): Promise<T> {
  return new Promise<void>((resolve) => setTimeout(resolve, AFTER_STARTUP_MS).unref()).then(work);
}

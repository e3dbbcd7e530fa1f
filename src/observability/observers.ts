import type { IncomingMessage, ServerResponse } from "node:http";
import { traceFields, type PipelineObserver } from "./pipeline-observer.js";
import type { Logger } from "./logger.js";

type Hooks = Required<PipelineObserver>;
type VoidHook = Exclude<keyof Hooks, "traceEvent">;

export const VOID_HOOKS: readonly VoidHook[] = [
  "commandFinished",
  "stateLoaded",
  "appended",
  "conflict",
  "dedupHit",
  "replicatedBatch",
  "cacheLookup",
  "snapshotWritten",
  "inFlight",
  "committed",
  "storeAvailability",
  "invalidCommand",
  "handled",
];

/**
 * One observer that calls each of `observers`. A hook is present only if one of them has it,
 * so the pipeline skips hooks nobody listens to (`observer.handled` absent: no timing at all).
 * `traceEvent` comes from the first observer that has it.
 */
export function combineObservers(...observers: readonly (PipelineObserver | undefined)[]): PipelineObserver {
  const present = observers.filter((o): o is PipelineObserver => o !== undefined);
  if (present.length === 1) return present[0]!;
  const combined: Record<string, unknown> = {};
  for (const name of VOID_HOOKS) {
    const fns = present.flatMap((o) => (o[name] ? [o[name].bind(o) as (...args: unknown[]) => void] : []));
    if (fns.length === 1) combined[name] = fns[0];
    else if (fns.length > 1)
      combined[name] = (...args: unknown[]) => {
        for (const fn of fns) fn(...args);
      };
  }
  const withEvent = present.find((o) => o.traceEvent !== undefined);
  if (withEvent) combined.traceEvent = withEvent.traceEvent!.bind(withEvent);
  return combined;
}

export type WrapRequest = (
  kind: "cloudevent" | "api" | "probe",
  req: IncomingMessage,
  res: ServerResponse,
  next: () => Promise<void> | void,
) => Promise<void> | void;

/**
 * True for health checks that reach the public port: the kubelet's (`User-Agent: kube-probe/…`)
 * and Knative's (queue-proxy probes the container with `K-Kubelet-Probe`; `K-Network-Probe`
 * marks probes of the network layer). They are not traffic.
 */
export function isProbe(req: IncomingMessage): boolean {
  const h = req.headers;
  return (
    h["user-agent"]?.startsWith("kube-probe/") === true ||
    h["k-kubelet-probe"] !== undefined ||
    h["k-network-probe"] !== undefined
  );
}

/** Nests request wrappers: the first one given is the outermost. */
export function combineWrappers(...wrappers: readonly (WrapRequest | undefined)[]): WrapRequest | undefined {
  const present = wrappers.filter((w): w is WrapRequest => w !== undefined);
  if (present.length <= 1) return present[0];
  return present.reduceRight<WrapRequest>(
    (inner, outer) => (kind, req, res, next) => outer(kind, req, res, () => inner(kind, req, res, next)),
    (_kind, _req, _res, next) => next(),
  );
}

/**
 * Per-command debug lines (entity type, command, outcome, duration; never ids or data), or
 * nothing when debug is off: at info level a busy host logs no line per command.
 */
export function commandLogObserver(logger: Logger): PipelineObserver | undefined {
  if (!logger.isEnabled("debug")) return undefined;
  return {
    commandFinished(entityType, command, outcome, seconds, trace) {
      const ms = Math.round(seconds * 1e6) / 1e3;
      logger.debug("command finished", { entityType, command, outcome, ms, ...traceFields(trace) });
    },
    conflict(entityType, attempt, trace) {
      logger.debug("conflict: reloading", { entityType, attempt, ...traceFields(trace) });
    },
  };
}

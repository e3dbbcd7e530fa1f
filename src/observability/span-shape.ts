import type { IncomingEvent } from "../cloudevents/event.js";
import type { HostError } from "../errors/host-error.js";
import { Problem } from "../errors/problems.js";
import type { PipelineObserver, TraceHandle } from "./pipeline-observer.js";

// The shape of knstate's spans (names and attributes), described once here and rendered by
// whichever backend records them (`tracer.ts`). CloudEvents and messaging semantic conventions
// are still "development", so they are spelled out here.
export const ENTITY_TYPE = "knstate.entity.type";
export const ENTITY_VERSION = "knstate.entity.version";
export const COMMAND = "knstate.command";

/** Name and attributes of the CONSUMER span of one CloudEvent (`process <type>`). */
export function eventSpan(event: IncomingEvent): { name: string; attributes: Record<string, string> } {
  const attributes: Record<string, string> = {
    "messaging.system": "knative",
    "messaging.operation.name": "process",
    "messaging.operation.type": "process",
    "messaging.message.id": event.id,
    "cloudevents.event_id": event.id,
    "cloudevents.event_source": event.source,
    "cloudevents.event_spec_version": event.specversion,
    "cloudevents.event_type": event.type,
  };
  if (event.subject !== undefined) attributes["cloudevents.event_subject"] = event.subject;
  return { name: `process ${event.type}`, attributes };
}

/** What a failure changes on the span of the CloudEvent it failed. */
export interface FailureShape {
  readonly attributes: Record<string, string>;
  /** A new span name, when the failure makes the event's own name misleading. */
  readonly name: string | undefined;
  /** Set for failures that are the host's (5xx): the span's status becomes ERROR with it. */
  readonly errorMessage: string | undefined;
}

/** `error.type` is the problem type; an unknown type renames the span; 5xx mark it ERROR. */
export function failureShape(error: HostError): FailureShape {
  return {
    attributes: { "error.type": error.problem.type },
    name: error.problem === Problem.unknownType ? "process (unknown type)" : undefined,
    errorMessage: error.status >= 500 ? error.detail : undefined,
  };
}

/** Name and attributes of the SERVER span of one HTTP API request. */
export function requestSpan(
  method: string | undefined,
  url: string | undefined,
): { name: string; attributes: Record<string, string> } {
  const m = method ?? "GET";
  const route = routeOf(m, url ?? "/");
  return {
    name: `${m} ${route}`,
    attributes: { "http.request.method": m, "http.route": route, "url.path": pathOf(url) },
  };
}

function pathOf(url: string | undefined): string {
  const path = (url ?? "/").split("?", 1)[0] ?? "/";
  return path.length > 512 ? path.slice(0, 512) : path;
}

/** The API route template of a request (bounded span names: ids never appear in them). */
function routeOf(method: string, url: string): string {
  const segments = pathOf(url).split("/").filter(Boolean).length;
  if (method === "POST" && segments === 3) return "/{entity}/{id}/{command}";
  if (method === "POST" && segments === 2) return "/{action}/{handler}";
  if (method === "GET" && segments === 2) return "/{entity}/{id}";
  if (method === "GET" && segments === 3) return "/{entity}/{id}/events";
  return "(unmatched)";
}

type StepHooks = Required<
  Pick<PipelineObserver, "handled" | "invalidCommand" | "stateLoaded" | "appended" | "conflict">
>;

/** A trace handle that adds up the time its command's handler ran (both tracers' handles do). */
export interface HandlerTime extends TraceHandle {
  handlerMs: number;
  handlerRuns: number;
}

/**
 * The pipeline hooks that record a command's steps: finished child spans for the steps that wait
 * on the store (`load state`, `append events`, `retry after conflict`), and on the command's own
 * span its entity type, command name and handler time (`knstate.handler.duration_ms`, and
 * `knstate.handler.runs` when a conflict made it run again). A handler runs for microseconds:
 * a span of its own would cost more to record than the handler does to run. Unsampled spans
 * get nothing: they are never exported.
 */
export function stepHooks(
  child: (
    parent: TraceHandle | undefined,
    name: string,
    seconds: number,
    attributes: Record<string, string | number>,
  ) => void,
  setAttribute: (trace: TraceHandle, key: string, value: string | number) => void,
): StepHooks {
  return {
    handled(entityType, command, seconds, trace) {
      if (trace === undefined || !trace.sampled) return;
      const total = trace as HandlerTime;
      total.handlerMs += seconds * 1000;
      total.handlerRuns++;
      setAttribute(trace, ENTITY_TYPE, entityType);
      setAttribute(trace, COMMAND, command);
      setAttribute(trace, "knstate.handler.duration_ms", Math.round(total.handlerMs * 1000) / 1000);
      if (total.handlerRuns > 1) setAttribute(trace, "knstate.handler.runs", total.handlerRuns);
    },
    invalidCommand(entityType, command, trace) {
      if (trace?.sampled === true && entityType !== undefined && command !== undefined) {
        setAttribute(trace, ENTITY_TYPE, entityType);
        setAttribute(trace, COMMAND, command);
      }
    },
    stateLoaded: (entityType, seconds, eventsReplayed, trace) =>
      child(trace, "load state", seconds, {
        [ENTITY_TYPE]: entityType,
        "knstate.events_replayed": eventsReplayed,
      }),
    appended: (entityType, seconds, events, commands, trace) =>
      child(trace, "append events", seconds, {
        [ENTITY_TYPE]: entityType,
        "knstate.events": events,
        "knstate.commands": commands,
      }),
    conflict: (entityType, attempt, trace) =>
      child(trace, "retry after conflict", 0, { [ENTITY_TYPE]: entityType, "knstate.attempt": attempt }),
  };
}

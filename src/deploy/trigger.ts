import type { FunctionRouting } from "./routing.js";

/**
 * The Knative Trigger (`eventing.knative.dev/v1`) that routes one function's commands from a
 * Broker to its Service. It uses the `filters` field (Knative's SQL-like dialect: `any`, `exact`,
 * `prefix`, `not`): one exact type per command, and a loop guard that keeps out everything whose
 * `source` starts with `/<service>/` — the function's own replies and published events, which
 * would otherwise come back (a published event may have the same type as a command).
 */

export const DEFAULT_BROKER = "default";

export const triggerDefaults = {
  broker: DEFAULT_BROKER,
  retry: 5,
  backoffPolicy: "exponential",
  backoffDelay: "PT0.5S",
} as const;

export type BackoffPolicy = "exponential" | "linear";

export interface TriggerOptions {
  readonly broker?: string | undefined;
  readonly namespace?: string | undefined;
  /** Delivery attempts after the first (Knative's `delivery.retry`). */
  readonly retry?: number | undefined;
  readonly backoffPolicy?: BackoffPolicy | undefined;
  /** ISO 8601 duration of the first backoff, e.g. `PT0.5S`. */
  readonly backoffDelay?: string | undefined;
  /** A Knative Service name, or a URI (`http://…`), for events that exhaust their retries or are refused. */
  readonly deadLetterSink?: string | undefined;
  /**
   * The OIDC audience of the subscriber (`spec.subscriber.audience`): with Knative Eventing's
   * `authentication-oidc` feature, the Broker sends a token for it, which knstate verifies
   * (`KNSTATE_EVENTS_AUTH=oidc`, `KNSTATE_OIDC_AUDIENCE`). A Knative Service publishes no
   * audience of its own, so without it the Broker sends no token.
   */
  readonly audience?: string | undefined;
}

/**
 * The audience knstate gives a function's Service, in the shape Knative Eventing gives its own
 * resources (`<group>/<kind>/<namespace>/<name>`, lowercase).
 */
export function serviceAudience(namespace: string, name: string): string {
  return `serving.knative.dev/service/${namespace}/${name}`;
}

export type TriggerFilter =
  | { readonly exact: Readonly<Record<string, string>> }
  | { readonly prefix: Readonly<Record<string, string>> }
  | { readonly suffix: Readonly<Record<string, string>> }
  | { readonly any: readonly TriggerFilter[] }
  | { readonly all: readonly TriggerFilter[] }
  | { readonly not: TriggerFilter };

type Destination = ({ ref: { apiVersion: string; kind: string; name: string } } | { uri: string }) & {
  audience?: string;
};

export interface KnativeTrigger {
  apiVersion: "eventing.knative.dev/v1";
  kind: "Trigger";
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  spec: {
    broker: string;
    filters: TriggerFilter[];
    subscriber: Destination;
    delivery: {
      retry: number;
      backoffPolicy: BackoffPolicy;
      backoffDelay: string;
      deadLetterSink?: Destination;
    };
  };
}

const DNS_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const ISO_DURATION = /^P(?!$)(\d+(\.\d+)?D)?(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$/;

function serviceRef(name: string): Destination {
  return { ref: { apiVersion: "serving.knative.dev/v1", kind: "Service", name } };
}

export function buildTrigger(routing: FunctionRouting, options: TriggerOptions = {}): KnativeTrigger {
  const o = {
    broker: options.broker ?? triggerDefaults.broker,
    retry: options.retry ?? triggerDefaults.retry,
    backoffPolicy: options.backoffPolicy ?? triggerDefaults.backoffPolicy,
    backoffDelay: options.backoffDelay ?? triggerDefaults.backoffDelay,
    deadLetterSink: options.deadLetterSink,
  };
  const problems: string[] = [];
  if (!DNS_LABEL.test(o.broker)) problems.push(`broker "${o.broker}" must be a DNS label`);
  if (!Number.isSafeInteger(o.retry) || o.retry < 0) problems.push("retry must be a whole number ≥ 0");
  if (o.backoffPolicy !== "exponential" && o.backoffPolicy !== "linear") {
    problems.push(`backoff policy "${String(o.backoffPolicy)}" must be exponential or linear`);
  }
  if (!ISO_DURATION.test(o.backoffDelay)) {
    problems.push(`backoff delay "${o.backoffDelay}" must be an ISO 8601 duration such as PT0.5S`);
  }
  const sink = o.deadLetterSink;
  const sinkIsUri = sink !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(sink);
  if (sink !== undefined && !sinkIsUri && !DNS_LABEL.test(sink)) {
    problems.push(`dead-letter sink "${sink}" must be a Service name (a DNS label) or a URI`);
  }
  if (options.audience !== undefined && !/^\S{1,253}$/.test(options.audience))
    problems.push(`audience "${options.audience}" must be non-empty text without spaces`);
  if (routing.commandTypes.length === 0) problems.push(`${routing.service} has no commands to route`);
  if (problems.length > 0) throw new Error(`cannot build the Trigger:\n  - ${problems.join("\n  - ")}`);

  const labels = { "app.kubernetes.io/name": routing.service, "app.kubernetes.io/part-of": "knstate" };
  const types = [...routing.commandTypes, ...(routing.subscribedTypes ?? [])].map((type): TriggerFilter => ({
    exact: { type },
  }));
  return {
    apiVersion: "eventing.knative.dev/v1",
    kind: "Trigger",
    metadata: {
      name: routing.service,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      labels,
    },
    spec: {
      broker: o.broker,
      filters: [
        types.length === 1 ? types[0]! : { any: types },
        { not: { prefix: { source: routing.ownSourcePrefix } } },
      ],
      subscriber: {
        ...serviceRef(routing.service),
        ...(options.audience === undefined ? {} : { audience: options.audience }),
      },
      delivery: {
        retry: o.retry,
        backoffPolicy: o.backoffPolicy,
        backoffDelay: o.backoffDelay,
        ...(sink === undefined ? {} : { deadLetterSink: sinkIsUri ? { uri: sink } : serviceRef(sink) }),
      },
    },
  };
}

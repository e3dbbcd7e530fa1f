import { CONTAINER_SECURITY, DEFAULT_REDIS_SECRET, METRICS_PORT, USER_PORT } from "./service.js";
import { DEFAULT_BROKER } from "./trigger.js";

/**
 * The outbox relay of a function as a Deployment of its own (`knstate manifest --relay separate`,
 * docs/outbox.md): `knstate relay <function>` from the function's image, with the function's
 * `K_SERVICE` (its outbox streams are named after it) and store settings, bound to the Broker
 * by a SinkBinding of its own for `K_SINK`. The function's Service then runs with
 * `KNSTATE_OUTBOX_RELAY=false`: it writes the outbox and spends no CPU on publishing it.
 */

/** Where `knstate` lives in the image (its ENTRYPOINT runs it with `serve`). */
export const IMAGE_CLI = "/app/dist/src/cli/bin.js";

export const relayDefaults = {
  /** Two: the outbox shards are spread over both, and one takes over when the other stops. */
  replicas: 2,
} as const;

export interface RelayDeploymentOptions {
  /** The function's Service name: its `K_SERVICE`. */
  readonly service: string;
  readonly namespace?: string | undefined;
  readonly image: string;
  /** The function folder inside the image. */
  readonly functionPath: string;
  readonly redisSecret?: string | undefined;
  /** The function's extra environment (store settings and the like), given to the relay too. */
  readonly env?: Readonly<Record<string, string>> | undefined;
  readonly replicas?: number | undefined;
  /** The Broker the relay publishes to (its SinkBinding's sink). */
  readonly broker?: string | undefined;
}

export interface KubeDeployment {
  apiVersion: "apps/v1";
  kind: "Deployment";
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: { terminationGracePeriodSeconds: number; containers: Record<string, unknown>[] };
    };
  };
}

export interface RelaySinkBinding {
  apiVersion: "sources.knative.dev/v1";
  kind: "SinkBinding";
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  spec: {
    subject: { apiVersion: "apps/v1"; kind: "Deployment"; name: string };
    sink: { ref: { apiVersion: "eventing.knative.dev/v1"; kind: "Broker"; name: string } };
  };
}

/** The relay Deployment of a function: `<service>-relay`. */
export function relayName(service: string): string {
  return `${service}-relay`;
}

/** Its SinkBinding: `<service>-relay-sink`. */
export function relaySinkBindingName(service: string): string {
  return `${relayName(service)}-sink`;
}

function labelsOf(service: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": relayName(service),
    "app.kubernetes.io/component": "outbox-relay",
    "app.kubernetes.io/part-of": "knstate",
    "knstate.dev/function": service,
  };
}

export function buildRelayDeployment(o: RelayDeploymentOptions): KubeDeployment {
  const replicas = o.replicas ?? relayDefaults.replicas;
  if (!Number.isSafeInteger(replicas) || replicas < 0) {
    throw new Error(`cannot build the relay Deployment: replicas must be a whole number ≥ 0`);
  }
  const name = relayName(o.service);
  const labels = labelsOf(o.service);
  const env: { name: string; value?: string; valueFrom?: unknown }[] = [
    { name: "K_SERVICE", value: o.service },
    { name: "KNSTATE_STORE", value: "redis" },
    {
      name: "REDIS_URL",
      valueFrom: { secretKeyRef: { name: o.redisSecret ?? DEFAULT_REDIS_SECRET, key: "url" } },
    },
  ];
  for (const [key, value] of Object.entries(o.env ?? {})) {
    if (key === "KNSTATE_OUTBOX_RELAY" || key === "K_SERVICE") continue;
    const existing = env.findIndex((e) => e.name === key);
    if (existing >= 0) env[existing] = { name: key, value };
    else env.push({ name: key, value });
  }
  const probe = (path: string) => ({ httpGet: { path, port: "http" }, periodSeconds: 10, timeoutSeconds: 1 });
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, ...(o.namespace ? { namespace: o.namespace } : {}), labels },
    spec: {
      replicas,
      selector: { matchLabels: { "app.kubernetes.io/name": name } },
      template: {
        metadata: {
          labels: { ...labels },
          annotations: {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": String(METRICS_PORT),
            "prometheus.io/path": "/metrics",
          },
        },
        spec: {
          // On SIGTERM the relay publishes for KNSTATE_SINK_FLUSH_TIMEOUT (2 s), then exits.
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: "relay",
              image: o.image,
              imagePullPolicy: "IfNotPresent",
              command: ["node", IMAGE_CLI, "relay", o.functionPath],
              ports: [{ name: "http", containerPort: USER_PORT }],
              env,
              readinessProbe: probe("/readyz"),
              livenessProbe: { ...probe("/livez"), failureThreshold: 3 },
              resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
              securityContext: structuredClone(CONTAINER_SECURITY),
            },
          ],
        },
      },
    },
  };
}

/** Binds the relay Deployment to the Broker: sets its `K_SINK` (and `K_CE_OVERRIDES`). */
export function buildRelaySinkBinding(o: RelayDeploymentOptions): RelaySinkBinding {
  return {
    apiVersion: "sources.knative.dev/v1",
    kind: "SinkBinding",
    metadata: {
      name: relaySinkBindingName(o.service),
      ...(o.namespace ? { namespace: o.namespace } : {}),
      labels: labelsOf(o.service),
    },
    spec: {
      subject: { apiVersion: "apps/v1", kind: "Deployment", name: relayName(o.service) },
      sink: {
        ref: { apiVersion: "eventing.knative.dev/v1", kind: "Broker", name: o.broker ?? DEFAULT_BROKER },
      },
    },
  };
}

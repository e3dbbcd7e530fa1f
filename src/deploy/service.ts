import { checkKnativeService } from "./admission.js";

/**
 * The Knative Service (`serving.knative.dev/v1`) that runs one knstate function. The manifests
 * shipped in `knative/base/functions/` are `knstate manifest`'s output; a test keeps them equal.
 */

/** The user port: Knative sets `PORT` to it; the only port the container declares. */
export const USER_PORT = 8080;
/** `/metrics` listens here; scraped through pod annotations, never declared as a container port. */
export const METRICS_PORT = 9464;
/** Non-root uid of the image (`USER 65532:65532` in the Dockerfile). */
export const IMAGE_UID = 65532;
/** Where the image keeps the compiled example functions. */
export const IMAGE_FUNCTIONS_DIR = "/app/dist/functions";
/** The Secret (key `url`) that holds `REDIS_URL` unless told otherwise. */
export const DEFAULT_REDIS_SECRET = "knstate-redis";
export const DEFAULT_IMAGE = "dev.local/knstate:0.1.0";
/** Knative Serving's label that keeps a Service off the ingress gateway (cluster-local). */
export const VISIBILITY_LABEL = "networking.knative.dev/visibility";

/** The container's security context: non-root, read-only, no privileges (restricted Pod Security). */
export const CONTAINER_SECURITY = {
  runAsNonRoot: true,
  runAsUser: IMAGE_UID,
  runAsGroup: IMAGE_UID,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
} as const;

export interface ServiceOptions {
  /** Service name: the function's entity or action name (`counter`, `cart`). */
  readonly name: string;
  /** Omitted: the namespace comes from kubectl/kustomize or the current kubeconfig context. */
  readonly namespace?: string | undefined;
  readonly image: string;
  /** The function folder inside the image (`/app/dist/functions/counter`). */
  readonly functionPath: string;
  /**
   * Reachable from outside the cluster. Off by default: the Service is labelled
   * `networking.knative.dev/visibility: cluster-local`, since the HTTP API answers an entity's
   * state and history to anyone who can reach it.
   */
  readonly public?: boolean | undefined;
  /** Entities need Redis; a stateless action runs with the embedded store. */
  readonly stateful: boolean;
  /** Secret whose key `url` is `REDIS_URL` (`redis://:password@redis:6379`). */
  readonly redisSecret?: string | undefined;
  /** Extra environment variables, added after the ones knstate sets. */
  readonly env?: Readonly<Record<string, string>> | undefined;
  readonly scaleMin?: number | undefined;
  readonly scaleMax?: number | undefined;
  /** Soft concurrency target per pod (autoscaling.knative.dev/target). */
  readonly target?: number | undefined;
  /** Hard concurrency limit per pod (containerConcurrency). */
  readonly concurrency?: number | undefined;
  /** Per-request timeout, also the pod's termination grace period; at most 600. */
  readonly timeoutSeconds?: number | undefined;
}

export const serviceDefaults = {
  scaleMin: 0,
  scaleMax: 10,
  target: 50,
  concurrency: 100,
  timeoutSeconds: 60,
} as const;

/** A Knative Service as plain JSON (what `kubectl apply` and server-side apply take). */
export interface KnativeService {
  apiVersion: "serving.knative.dev/v1";
  kind: "Service";
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  spec: {
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: {
        containerConcurrency: number;
        timeoutSeconds: number;
        containers: Record<string, unknown>[];
      };
    };
  };
}

type EnvVar = { name: string; value: string } | { name: string; valueFrom: unknown };

/** Environment variables Knative sets itself and refuses in a Service. */
export const RESERVED_ENV = ["PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"] as const;

export function buildService(options: ServiceOptions): KnativeService {
  const o: Resolved = {
    ...options,
    scaleMin: options.scaleMin ?? serviceDefaults.scaleMin,
    scaleMax: options.scaleMax ?? serviceDefaults.scaleMax,
    target: options.target ?? serviceDefaults.target,
    concurrency: options.concurrency ?? serviceDefaults.concurrency,
    timeoutSeconds: options.timeoutSeconds ?? serviceDefaults.timeoutSeconds,
  };
  const problems = checkOptions(o);
  if (problems.length > 0) throw new Error(`cannot build the Service:\n  - ${problems.join("\n  - ")}`);
  const labels = { "app.kubernetes.io/name": o.name, "app.kubernetes.io/part-of": "knstate" };
  const serviceLabels: Record<string, string> = o.public
    ? { ...labels }
    : { ...labels, [VISIBILITY_LABEL]: "cluster-local" };
  // SIGTERM comes after queue-proxy's 30 s drain; finish in-flight work well before SIGKILL.
  const shutdownSeconds = Math.max(5, o.timeoutSeconds - 35);
  const env: EnvVar[] = [
    { name: "KNSTATE_FUNCTIONS", value: o.functionPath },
    { name: "KNSTATE_STORE", value: o.stateful ? "redis" : "memory" },
  ];
  if (o.stateful) {
    env.push({
      name: "REDIS_URL",
      valueFrom: { secretKeyRef: { name: o.redisSecret ?? DEFAULT_REDIS_SECRET, key: "url" } },
    });
  }
  env.push({ name: "KNSTATE_SHUTDOWN_TIMEOUT", value: `${shutdownSeconds}s` });
  for (const [name, value] of Object.entries(o.env ?? {})) {
    const existing = env.findIndex((e) => e.name === name);
    if (existing >= 0) env[existing] = { name, value };
    else env.push({ name, value });
  }
  const service: KnativeService = {
    apiVersion: "serving.knative.dev/v1",
    kind: "Service",
    metadata: {
      name: o.name,
      ...(o.namespace ? { namespace: o.namespace } : {}),
      labels: serviceLabels,
    },
    spec: {
      template: {
        metadata: {
          labels: { ...labels },
          annotations: {
            "autoscaling.knative.dev/min-scale": String(o.scaleMin),
            "autoscaling.knative.dev/max-scale": String(o.scaleMax),
            "autoscaling.knative.dev/target": String(o.target),
            "prometheus.io/scrape": "true",
            "prometheus.io/port": String(METRICS_PORT),
            "prometheus.io/path": "/metrics",
          },
        },
        spec: {
          containerConcurrency: o.concurrency,
          timeoutSeconds: o.timeoutSeconds,
          containers: [
            {
              name: "function",
              image: o.image,
              imagePullPolicy: "IfNotPresent",
              ports: [{ name: "http1", containerPort: USER_PORT }],
              env,
              readinessProbe: { httpGet: { path: "/readyz" }, periodSeconds: 0 },
              livenessProbe: {
                httpGet: { path: "/livez" },
                periodSeconds: 10,
                timeoutSeconds: 1,
                failureThreshold: 3,
              },
              resources: {
                requests: { cpu: "100m", memory: "128Mi" },
                limits: { memory: "256Mi" },
              },
              securityContext: CONTAINER_SECURITY,
            },
          ],
        },
      },
    },
  };
  const refused = checkKnativeService(service);
  if (refused.length > 0) throw new Error(`Knative would refuse the Service:\n  - ${refused.join("\n  - ")}`);
  return service;
}

type Resolved = ServiceOptions & {
  readonly scaleMin: number;
  readonly scaleMax: number;
  readonly target: number;
  readonly concurrency: number;
  readonly timeoutSeconds: number;
};

function checkOptions(o: Resolved): string[] {
  const problems: string[] = [];
  if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(o.name)) {
    problems.push(`name "${o.name}" must be a DNS label (lower-case letters, digits, -)`);
  }
  if (o.image.trim() === "") problems.push("image must not be empty");
  for (const [key, value] of Object.entries({
    scaleMin: o.scaleMin,
    scaleMax: o.scaleMax,
    target: o.target,
    concurrency: o.concurrency,
    timeoutSeconds: o.timeoutSeconds,
  })) {
    if (!Number.isSafeInteger(value) || value < 0) problems.push(`${key} must be a whole number ≥ 0`);
  }
  if (o.scaleMax !== 0 && o.scaleMin > o.scaleMax) problems.push("scaleMin must not exceed scaleMax");
  if (o.concurrency > 1000) problems.push("concurrency must be at most 1000 (Knative's limit)");
  if (o.target < 1) problems.push("target must be at least 1");
  if (o.timeoutSeconds < 1 || o.timeoutSeconds > 600) problems.push("timeoutSeconds must be 1-600");
  for (const name of Object.keys(o.env ?? {})) {
    if ((RESERVED_ENV as readonly string[]).includes(name)) problems.push(`env ${name} is set by Knative`);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) problems.push(`env name "${name}" is not valid`);
  }
  return problems;
}

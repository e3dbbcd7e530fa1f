import type { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import type { KnativeService } from "./service.js";
import type { KnativeTrigger } from "./trigger.js";
import type { KnativePingSource } from "./ping-source.js";
import type { KubeDeployment, RelaySinkBinding } from "./relay-deployment.js";
import { deploymentStatus, type DeploymentObject, type DeploymentStatus } from "./deployment-status.js";
import { waitFor, type Condition, type WaitOptions } from "./wait.js";

export type { Condition, WaitOptions } from "./wait.js";
export type { DeploymentStatus } from "./deployment-status.js";

type ClientModule = typeof import("@kubernetes/client-node");
let clientModule: ClientModule | undefined;

/**
 * The Kubernetes client is an optional peer dependency, loaded on demand: a function image
 * never needs it, only `knstate deploy`, `status` and `delete` do.
 */
async function kubernetesClient(): Promise<ClientModule> {
  try {
    clientModule ??= await import("@kubernetes/client-node");
    return clientModule;
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_MODULE_NOT_FOUND") {
      throw new Error("knstate deploy needs @kubernetes/client-node: npm install -D @kubernetes/client-node");
    }
    throw error;
  }
}

function loaded(): ClientModule {
  if (clientModule === undefined) throw new Error("call loadKubeConfig first");
  return clientModule;
}

/** The field manager of knstate's server-side applies (`kubectl get ksvc -o yaml --show-managed-fields`). */
export const FIELD_MANAGER = "knstate";

/** The kubeconfig of `KUBECONFIG` (its first file) or `~/.kube/config` or the in-cluster account. */
export async function loadKubeConfig(env: Readonly<Record<string, string | undefined>>): Promise<KubeConfig> {
  const { KubeConfig } = await kubernetesClient();
  const kc = new KubeConfig();
  const file = env.KUBECONFIG?.split(process.platform === "win32" ? ";" : ":").find(Boolean);
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  if (kc.getCurrentCluster() === null) {
    throw new Error(
      "no current Kubernetes cluster: set KUBECONFIG or run `kubectl config use-context <name>`",
    );
  }
  return kc;
}

/** The namespace of the current kubeconfig context, `default` when it names none. */
export function currentNamespace(kc: KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
}

/** What `knstate status` shows. */
export interface ServiceStatus {
  readonly name: string;
  readonly namespace: string;
  readonly generation: number | undefined;
  readonly observedGeneration: number | undefined;
  readonly url: string | undefined;
  readonly ready: Condition | undefined;
  readonly latestCreatedRevision: string | undefined;
  readonly latestReadyRevision: string | undefined;
  /** From the latest ready revision's status, when the API shows it. */
  readonly replicas?: { readonly desired: number | undefined; readonly actual: number | undefined };
}

interface KnativeObject {
  metadata?: { generation?: number };
  status?: {
    observedGeneration?: number;
    url?: string;
    conditions?: Condition[];
    latestCreatedRevisionName?: string;
    latestReadyRevisionName?: string;
    actualReplicas?: number;
    desiredReplicas?: number;
  };
}

const SERVING = { group: "serving.knative.dev", version: "v1" } as const;

/** Where each kind knstate applies lives in the API. */
const RESOURCES = {
  Service: { ...SERVING, plural: "services" },
  Trigger: { group: "eventing.knative.dev", version: "v1", plural: "triggers" },
  PingSource: { group: "sources.knative.dev", version: "v1", plural: "pingsources" },
  SinkBinding: { group: "sources.knative.dev", version: "v1", plural: "sinkbindings" },
  Deployment: { group: "apps", version: "v1", plural: "deployments" },
} as const;

/** The Eventing objects `knstate deploy` applies beside the Service (and waits for). */
export type EventingKind = "Trigger" | "PingSource" | "SinkBinding";

/** What `knstate deploy` shows of a Trigger or a PingSource while it waits. */
export interface EventingStatus {
  readonly name: string;
  readonly namespace: string;
  readonly generation: number | undefined;
  readonly observedGeneration: number | undefined;
  readonly ready: Condition | undefined;
  /** Where it delivers: a Trigger's `subscriberUri`, a PingSource's `sinkUri`. */
  readonly uri: string | undefined;
}

/**
 * Knative Services through one kubeconfig: apply, read, wait, delete. Uses the custom-objects
 * API, which passes objects through as JSON (the generic object API would read a Knative
 * `Service` as a core v1 Service and drop its fields).
 */
export class KnativeClient {
  readonly #api: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.#api = kc.makeApiClient(loaded().CustomObjectsApi);
  }

  /** Server-side apply (`application/apply-patch+yaml`), taking over fields other managers own. */
  async apply(
    object: KnativeService | KnativeTrigger | KnativePingSource | KubeDeployment | RelaySinkBinding,
    namespace: string,
  ): Promise<void> {
    const { setHeaderOptions, PatchStrategy } = loaded();
    await this.#api.patchNamespacedCustomObject(
      {
        ...RESOURCES[object.kind],
        namespace,
        name: object.metadata.name,
        body: object,
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
    );
  }

  /** One Knative object, as the API answers it. */
  async #get<T>(group: typeof SERVING, plural: string, namespace: string, name: string): Promise<T> {
    return (await this.#api.getNamespacedCustomObject({ ...group, plural, namespace, name })) as T;
  }

  async status(name: string, namespace: string): Promise<ServiceStatus> {
    const ksvc = await this.#get<KnativeObject>(SERVING, "services", namespace, name);
    const s = ksvc.status ?? {};
    const result: ServiceStatus = {
      name,
      namespace,
      generation: ksvc.metadata?.generation,
      observedGeneration: s.observedGeneration,
      url: s.url,
      ready: s.conditions?.find((c) => c.type === "Ready"),
      latestCreatedRevision: s.latestCreatedRevisionName,
      latestReadyRevision: s.latestReadyRevisionName,
    };
    if (s.latestReadyRevisionName === undefined) return result;
    try {
      const revision = await this.#get<KnativeObject>(
        SERVING,
        "revisions",
        namespace,
        s.latestReadyRevisionName,
      );
      return {
        ...result,
        replicas: { desired: revision.status?.desiredReplicas, actual: revision.status?.actualReplicas },
      };
    } catch {
      return result; // not allowed to read revisions, or it is gone: show what we have
    }
  }

  async eventingStatus(kind: EventingKind, name: string, namespace: string): Promise<EventingStatus> {
    type Delivering = KnativeObject & { status?: { subscriberUri?: string; sinkUri?: string } };
    const object = (await this.#api.getNamespacedCustomObject({
      ...RESOURCES[kind],
      namespace,
      name,
    })) as Delivering;
    const s = object.status ?? {};
    return {
      name,
      namespace,
      generation: object.metadata?.generation,
      observedGeneration: s.observedGeneration,
      ready: s.conditions?.find((c) => c.type === "Ready"),
      uri: s.subscriberUri ?? s.sinkUri,
    };
  }

  /** Polls until the Service's current generation is Ready (see `waitFor`). */
  waitForReady(name: string, namespace: string, options: WaitOptions): Promise<ServiceStatus> {
    return waitFor(() => this.status(name, namespace), `${namespace}/${name}`, options);
  }

  /**
   * The same for a Trigger (Ready once its Broker exists and its subscriber resolves) or a
   * PingSource (Ready once its sink resolves).
   */
  waitForEventingReady(
    kind: EventingKind,
    name: string,
    namespace: string,
    options: WaitOptions,
  ): Promise<EventingStatus> {
    const what = `${kind.toLowerCase()} ${namespace}/${name}`;
    return waitFor(() => this.eventingStatus(kind, name, namespace), what, options);
  }

  /**
   * Polls until the Deployment has rolled out: every replica of its current template available;
   * throws when its progress deadline passes (see `deploymentStatus`) or the timeout does.
   */
  waitForAvailable(name: string, namespace: string, options: WaitOptions): Promise<DeploymentStatus> {
    const read = async () =>
      deploymentStatus(
        name,
        namespace,
        (await this.#api.getNamespacedCustomObject({
          ...RESOURCES.Deployment,
          namespace,
          name,
        })) as DeploymentObject,
      );
    return waitFor(read, `deployment ${namespace}/${name}`, options);
  }

  async delete(name: string, namespace: string): Promise<void> {
    await this.#api.deleteNamespacedCustomObject({
      ...SERVING,
      plural: "services",
      namespace,
      name,
      propagationPolicy: "Foreground",
    });
  }
  /** Deletes the object of that kind and name beside a Service; false when there is none. */
  async deleteEventing(kind: EventingKind | "Deployment", name: string, namespace: string): Promise<boolean> {
    try {
      await this.#api.deleteNamespacedCustomObject({ ...RESOURCES[kind], namespace, name });
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return false;
      throw error;
    }
  }
}

/** Kubernetes API errors carry the Status object in `body`; show its message, not the stack. */
export function describeKubeError(error: unknown): string {
  const e = error as { code?: number; body?: unknown; message?: string };
  if (typeof e.code === "number" && e.body !== undefined) {
    let body: { message?: string } | undefined;
    try {
      body = (typeof e.body === "string" ? JSON.parse(e.body) : e.body) as { message?: string };
    } catch {
      body = undefined;
    }
    return `the Kubernetes API answered ${e.code}: ${body?.message ?? JSON.stringify(e.body)}`;
  }
  return e.message ?? String(error);
}

import type { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import type { KnativeService } from "./service.js";

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
  const kc = new (await kubernetesClient()).KubeConfig();
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

export interface Condition {
  readonly type: string;
  readonly status: "True" | "False" | "Unknown";
  readonly reason?: string;
  readonly message?: string;
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
  async apply(service: KnativeService, namespace: string): Promise<void> {
    const { setHeaderOptions, PatchStrategy } = loaded();
    await this.#api.patchNamespacedCustomObject(
      {
        ...SERVING,
        plural: "services",
        namespace,
        name: service.metadata.name,
        body: service,
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
    );
  }

  async status(name: string, namespace: string): Promise<ServiceStatus> {
    const ksvc = (await this.#api.getNamespacedCustomObject({
      ...SERVING,
      plural: "services",
      namespace,
      name,
    })) as KnativeObject;
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
      const revision = (await this.#api.getNamespacedCustomObject({
        ...SERVING,
        plural: "revisions",
        namespace,
        name: s.latestReadyRevisionName,
      })) as KnativeObject;
      return {
        ...result,
        replicas: { desired: revision.status?.desiredReplicas, actual: revision.status?.actualReplicas },
      };
    } catch {
      return result; // not allowed to read revisions, or it is gone: show what we have
    }
  }

  /**
   * Polls until the Service's current generation is Ready; throws when it turns Ready=False or
   * the timeout passes. `progress` gets a line whenever what it would say changes.
   */
  async waitForReady(
    name: string,
    namespace: string,
    options: { timeoutMs: number; intervalMs?: number; progress?: (line: string) => void },
  ): Promise<ServiceStatus> {
    const deadline = Date.now() + options.timeoutMs;
    let last = "";
    for (;;) {
      const status = await this.status(name, namespace);
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
          `${namespace}/${name} is not ready: ${ready.reason ?? "unknown reason"}${ready.message ? `: ${ready.message}` : ""}`,
        );
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `${namespace}/${name} was not ready after ${Math.round(options.timeoutMs / 1000)}s (${line})`,
        );
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(options.intervalMs ?? 1000, Math.max(0, deadline - Date.now()))),
      );
    }
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
}

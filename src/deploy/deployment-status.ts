import type { Condition, Readiness } from "./wait.js";

/** A Deployment as the API answers it: the fields its rollout is judged by. */
export interface DeploymentObject {
  readonly metadata?: { readonly generation?: number };
  readonly spec?: { readonly replicas?: number };
  readonly status?: {
    readonly observedGeneration?: number;
    readonly replicas?: number;
    readonly updatedReplicas?: number;
    readonly availableReplicas?: number;
    readonly conditions?: readonly Condition[];
  };
}

/** What `knstate deploy` shows of the relay Deployment while it waits. */
export interface DeploymentStatus extends Readiness {
  readonly name: string;
  readonly namespace: string;
  /** Pods wanted (`spec.replicas`), and those of the current template available. */
  readonly replicas: number;
  readonly available: number;
}

/**
 * A Deployment's rollout as a `Ready` condition, judged as `kubectl rollout status` does: True
 * once every wanted pod runs the current template and is available (and `Available` is not
 * False); False once `Progressing` is False (its progress deadline passed, e.g. pods that crash
 * or an image that cannot be pulled); Unknown meanwhile, saying how many pods are available and
 * why not more (`ReplicaFailure`: a quota, an admission webhook).
 */
export function deploymentStatus(
  name: string,
  namespace: string,
  object: DeploymentObject,
): DeploymentStatus {
  const s = object.status ?? {};
  const replicas = object.spec?.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  const available = Math.min(s.availableReplicas ?? 0, updated);
  const condition = (type: string) => s.conditions?.find((c) => c.type === type);
  const progressing = condition("Progressing");
  const failure = condition("ReplicaFailure");
  const count = `${available}/${replicas} replicas available`;
  let ready: Condition;
  if (progressing?.status === "False") {
    ready = { type: "Ready", status: "False", reason: progressing.reason, message: progressing.message };
  } else if (
    updated >= replicas &&
    (s.replicas ?? updated) <= updated &&
    available >= replicas &&
    condition("Available")?.status !== "False"
  ) {
    ready = { type: "Ready", status: "True", reason: count };
  } else {
    const why = failure?.status === "True" ? failure : condition("Available");
    ready = { type: "Ready", status: "Unknown", reason: count, message: why?.message };
  }
  return {
    name,
    namespace,
    generation: object.metadata?.generation,
    observedGeneration: s.observedGeneration,
    ready,
    replicas,
    available,
  };
}

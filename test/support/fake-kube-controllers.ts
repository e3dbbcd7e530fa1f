/**
 * The controllers the fake Kubernetes API imitates (fake-kube-api.ts): each sets an object's
 * status on its `count`th read, Ready once `readyAfterReads` reads have been made.
 */

/** What the controllers read of `FakeKubeOptions`. */
interface FakeKubeOptions {
  readonly readyAfterReads?: number | undefined;
  readonly triggerFail?: { readonly reason: string; readonly message: string } | undefined;
  readonly deploymentFail?: { readonly reason: string; readonly message: string } | undefined;
  readonly deploymentAvailable?: number | undefined;
}

export type Obj = Record<string, unknown> & {
  metadata: Record<string, unknown>;
  status?: Record<string, unknown>;
};

/**
 * Knative Eventing's imitation: a Trigger is Ready once its subscriber resolves (unless
 * `triggerFail`), a PingSource or SinkBinding once its sink does.
 */
export function eventingProgress(
  options: FakeKubeOptions,
  object: Obj,
  count: number,
  namespace: string,
  name: string,
): void {
  const s = object.status!;
  s.observedGeneration = object.metadata.generation;
  const trigger = object.kind === "Trigger";
  const sink = (object.spec as { sink?: { ref?: { name?: string } } } | undefined)?.sink?.ref?.name;
  if (trigger && options.triggerFail) {
    s.conditions = [{ type: "Ready", status: "False", ...options.triggerFail }];
  } else if (count >= (options.readyAfterReads ?? 2)) {
    s.conditions = [{ type: "Ready", status: "True" }];
    if (trigger) s.subscriberUri = `http://${name}.${namespace}.svc.cluster.local`;
    else s.sinkUri = `http://${sink}.${namespace}.svc.cluster.local`;
  } else {
    s.conditions = [
      { type: "Ready", status: "Unknown", reason: trigger ? "SubscriberNotResolved" : "SinkNotFound" },
    ];
  }
}

/**
 * The Deployment controller's imitation: it observes the generation and creates the pods at
 * once; one more pod becomes available per read until all are (`Available` True), or until
 * `deploymentAvailable` are; with `deploymentFail` none does and `Progressing` turns False.
 */
export function deploymentProgress(options: FakeKubeOptions, object: Obj, count: number): void {
  const replicas = (object.spec as { replicas?: number } | undefined)?.replicas ?? 1;
  const available = options.deploymentFail
    ? 0
    : Math.min(
        replicas,
        options.deploymentAvailable ?? replicas,
        Math.max(0, count - (options.readyAfterReads ?? 2) + replicas),
      );
  const all = available >= replicas;
  object.status = {
    observedGeneration: object.metadata.generation,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: available,
    availableReplicas: available,
    conditions: [
      all
        ? { type: "Available", status: "True", reason: "MinimumReplicasAvailable" }
        : {
            type: "Available",
            status: "False",
            reason: "MinimumReplicasUnavailable",
            message: "Deployment does not have minimum availability.",
          },
      options.deploymentFail
        ? { type: "Progressing", status: "False", ...options.deploymentFail }
        : {
            type: "Progressing",
            status: "True",
            reason: all ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
          },
    ],
  };
}

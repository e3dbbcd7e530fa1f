import { describe, expect, it } from "vitest";
import { deploymentStatus, type DeploymentObject } from "../../src/deploy/deployment-status.js";

const rollout = (status: DeploymentObject["status"], replicas = 2): DeploymentObject => ({
  metadata: { generation: 3 },
  spec: { replicas },
  status: { observedGeneration: 3, ...status },
});
const ready = (object: DeploymentObject) => deploymentStatus("r", "ns", object).ready;

describe("a Deployment's rollout as a Ready condition", () => {
  it("is ready once every wanted pod of the current template is available", () => {
    const done = rollout({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
    expect(ready(done)).toEqual({ type: "Ready", status: "True", reason: "2/2 replicas available" });
    expect(deploymentStatus("r", "ns", done)).toMatchObject({ generation: 3, observedGeneration: 3 });
  });

  it("waits while old pods remain, pods of the new template are not available, or Available is False", () => {
    // Two old pods still available, one new one: a rollout in progress.
    const old = rollout({ replicas: 3, updatedReplicas: 1, availableReplicas: 3 });
    expect(ready(old)).toMatchObject({ status: "Unknown", reason: "1/2 replicas available" });
    const surge = rollout({ replicas: 3, updatedReplicas: 2, availableReplicas: 2 });
    expect(ready(surge)?.status).toBe("Unknown");
    const unavailable = rollout({
      replicas: 2,
      updatedReplicas: 2,
      availableReplicas: 2,
      conditions: [
        { type: "Available", status: "False", message: "Deployment does not have minimum availability." },
      ],
    });
    expect(ready(unavailable)).toMatchObject({
      status: "Unknown",
      message: "Deployment does not have minimum availability.",
    });
  });

  it("says why pods are missing, and fails once Progressing is False", () => {
    const quota = {
      type: "ReplicaFailure",
      status: "True",
      reason: "FailedCreate",
      message: "no quota",
    } as const;
    const deadline = { type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" } as const;
    expect([
      ready(rollout({ replicas: 0, conditions: [quota] })),
      ready(rollout({ conditions: [{ ...deadline, message: "timed out" }] })),
    ]).toEqual([
      { type: "Ready", status: "Unknown", reason: "0/2 replicas available", message: "no quota" },
      { type: "Ready", status: "False", reason: "ProgressDeadlineExceeded", message: "timed out" },
    ]);
  });

  it("counts one replica when the spec names none, and zero replicas as rolled out", () => {
    expect(ready({ status: { updatedReplicas: 1, availableReplicas: 1 } })?.status).toBe("True");
    expect(ready(rollout({}, 0))?.status).toBe("True");
  });
});

import type { RedisClient } from "./redis-connection.js";

/** `KNSTATE_REDIS_WAIT_REPLICAS` and `KNSTATE_REDIS_WAIT_TIMEOUT`: WAIT for this many replicas, this long. */
export interface ReplicaWait {
  /** Replicas to wait for (0: do not wait). */
  readonly replicas: number;
  readonly timeoutMs: number;
}

/**
 * WAIT in a pipeline with a command on `anchor`, one of the entity's keys, so that on a cluster
 * it reaches the entity's master; fails unless enough replicas acknowledged in time.
 */
export async function waitForReplicas(client: RedisClient, anchor: string, wait: ReplicaWait): Promise<void> {
  const results = await client.pipeline().exists(anchor).wait(wait.replicas, wait.timeoutMs).exec();
  checkAcks(results?.[1], wait);
}

/** Fails when WAIT's reply (one pipeline result) counts fewer replicas than asked for. */
export function checkAcks(
  waited: [error: Error | null, result: unknown] | undefined,
  wait: ReplicaWait,
): void {
  if (!waited || waited[0]) throw waited?.[0] ?? new Error("no reply to WAIT");
  const acks = waited[1] as number;
  if (acks < wait.replicas) {
    throw new Error(
      `only ${acks} of ${wait.replicas} replicas acknowledged within ${wait.timeoutMs} ms (KNSTATE_REDIS_WAIT_REPLICAS)`,
    );
  }
}

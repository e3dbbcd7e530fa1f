import { defineReplicatedEntity, emit, lease, register, type Json, type Values } from "knstate";

const values = { lease: lease(), config: register<Json>() };
type Leader = Values<typeof values>;

/** `input` as an object with only `keys`, or an error naming what is wrong. */
function only(input: unknown, keys: readonly string[]): Record<string, unknown> {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new Error("expected an object");
  for (const key of Object.keys(input)) if (!keys.includes(key)) throw new Error(`unexpected key "${key}"`);
  return input as Record<string, unknown>;
}
function pod(value: unknown): string {
  if (typeof value !== "string" || value === "") throw new Error("pod must be a non-empty string");
  return value;
}
function integer(value: unknown, name: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new Error(`${name} must be a safe integer of at least ${min}`);
  }
  return value;
}

const acquireInput = (input: unknown) => {
  const data = only(input, ["pod", "ttlMs"]);
  return { pod: pod(data.pod), ttlMs: integer(data.ttlMs, "ttlMs", 1) };
};
const releaseInput = (input: unknown) => ({ pod: pod(only(input, ["pod"]).pod) });
const writeInput = (input: unknown) => {
  const data = only(input, ["token", "config"]);
  if (data.config === undefined) throw new Error("config is required");
  return { token: integer(data.token, "token", 0), config: data.config as Json };
};

const status = (pod: string) => (after: Leader) => ({
  leader: after.lease.holder === pod,
  holder: after.lease.holder,
  token: after.lease.token,
});

/**
 * Leader election among the pods of a Service. Every pod sends
 * `POST /leader/<group>/acquire {"pod": "<its name>", "ttlMs": 10000}` every few seconds: one
 * pod holds the lease and renews it; when it stops (crash, scale-down), another gets it after
 * the TTL with a higher fencing `token`. The leader's writes carry its token
 * (`POST /leader/<group>/write {"token": 3, "config": {...}}`), and a write with an older token
 * is refused, so a paused ex-leader cannot overwrite its successor's work.
 */
export default defineReplicatedEntity({
  name: "leader",
  typePrefix: "com.example",
  values,
  commands: {
    acquire: {
      input: acquireInput,
      handle: (_l, cmd, { ops }) => emit([ops.lease.acquire(cmd.pod, cmd.ttlMs)], status(cmd.pod)),
    },
    release: {
      input: releaseInput,
      handle: (_l, cmd, { ops }) => emit([ops.lease.release(cmd.pod)], status(cmd.pod)),
    },
    write: {
      input: writeInput,
      handle: (_l, { token, config }, { ops }) =>
        emit([ops.lease.fence(token), ops.config.set(config)], { written: true, token }),
    },
  },
  view: (l) => ({ holder: l.lease.holder, token: l.lease.token, config: l.config ?? null }),
});

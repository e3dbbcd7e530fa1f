import type { ChainableCommander } from "ioredis";
import type { RedisClient } from "./redis-connection.js";
import type { EntityKeys } from "./redis-keys.js";
import { toHits } from "./redis-replies.js";
import { checkAcks, type ReplicaWait } from "./redis-replicas.js";
import type { RunScript } from "./redis-script-runner.js";
import type { ScriptArg } from "./script-sender.js";
import type { AppendRequest, AppendResult } from "./state-store.js";

/**
 * The append script as an ioredis custom command (`numkeys, ...keys, ...args`), for the
 * pipeline that sends it with WAIT: ioredis then handles a lost script inside the pipeline.
 */
interface AppendCommand {
  ksAppend(...args: ScriptArg[]): Promise<unknown>;
}

/**
 * The keys outside the entity's hash and stream that one append may write to; the last two are
 * named only when the append needs them.
 */
export interface AppendTargets {
  /** The type's entity index, when this append adds the entity to it. */
  readonly entityIndex: string | undefined;
  /** The entity's outbox stream (see outbox-keys.ts). */
  outbox(): string;
  /** The service's due index of timers (see redis-timers.ts). */
  dueIndex(): string;
}

/** KEYS of the append script for `request`, in the order it reads them (see redis-append-script.ts). */
export function appendKeys(request: AppendRequest, k: EntityKeys, targets: AppendTargets): string[] {
  const keys = [k.meta, k.events];
  for (const id of request.checkDedup) keys.push(k.dedup(id));
  if (targets.entityIndex !== undefined) keys.push(targets.entityIndex);
  // The outbox stream only when there is something to publish (see outbox-keys.ts).
  if ((request.outbox?.length ?? 0) > 0) keys.push(targets.outbox());
  if ((request.timers ?? []).length > 0) keys.push(k.timers, targets.dueIndex());
  return keys;
}

/**
 * Runs the append script; with `wait.replicas` above 0, the append and WAIT go in one round
 * trip, on the entity's node. WAIT also covers a duplicate answer, whose record may not have
 * reached the replicas yet.
 */
export async function sendAppend(
  client: RedisClient,
  run: RunScript,
  keys: string[],
  args: ScriptArg[],
  wait: ReplicaWait,
): Promise<unknown> {
  if (wait.replicas === 0) return run("ksAppend", keys, args);
  const pipeline = client.pipeline() as ChainableCommander & AppendCommand;
  void pipeline.ksAppend(keys.length, ...keys, ...args);
  void pipeline.wait(wait.replicas, wait.timeoutMs);
  const results = (await pipeline.exec()) ?? [];
  const [appended, waited] = results;
  if (!appended || appended[0]) throw appended?.[0] ?? new Error("no reply to the append");
  const [kind] = appended[1] as [string];
  // A conflict or a tombstone that wants the index key: nothing was written, nothing to wait for.
  if (kind !== "conflict" && kind !== "unindexed") {
    checkAcks(waited, wait);
  }
  return appended[1];
}

/**
 * Sends an append (`send(index)`: with the index section or not), with the index when it is kept
 * and the entity is `created` (version 0). When the script answers that the entity is an
 * erasure's tombstone to enter in the index again (`unindexed`: nothing written), sends it once
 * more with the index; with the index off since the erasure, `dropMark` first removes the mark.
 */
export async function sendReindexing(
  send: (index: boolean) => Promise<unknown>,
  created: boolean,
  indexed: boolean,
  dropMark: () => Promise<unknown>,
): Promise<unknown> {
  const reply = await send(indexed && created);
  if ((reply as [string])[0] !== "unindexed") return reply;
  if (!indexed) await dropMark();
  return send(indexed);
}

/** The append script's reply as an `AppendResult`. */
export function toAppendResult(reply: unknown, checkDedup: readonly string[]): AppendResult {
  const [kind, value] = reply as [string, unknown];
  if (kind === "ok") return { kind: "ok", version: value as number };
  if (kind === "conflict") return { kind: "conflict", version: value as number };
  return { kind: "duplicate", duplicates: toHits(checkDedup, value as Array<number | string>) };
}
